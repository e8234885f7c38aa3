"""A smoke run of the four services: a handful of chat events, one broken record and one duplicate.

The e2e tests publish these; ``python -m tools.demo.smoke`` runs it on its own, printing what
happened at each hop. The full demo is ``python -m tools.demo``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.contracts import SOURCE_FORMAT_HEADER, SourceFormat
from shared.contracts.topics import (
    INGEST_DLQ,
    MEMBER_CHAT,
    MEMBER_COMMUNITY,
    MEMBER_STATE,
    NOTIFICATION_STATUS,
    OFFER_ISSUED,
    RAW_CHAT,
)
from shared.settings import KafkaSettings
from tools.services import REPO_ROOT, start_services, stop_services

WATCHED = (MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_STATE, OFFER_ISSUED, NOTIFICATION_STATUS, INGEST_DLQ)
TEXTS = (
    "早上好，今天有新鲜的草莓吗？",
    "Сәлеметсіз бе! Жаңа өнімдер бар ма?",
    "سلام، تخفیف امروز چیست؟",
    "Great deals today 🎉",
    "",
)


def chat_events(run_id: str, members: int) -> list[dict[str, object]]:
    start = datetime.now(UTC) - timedelta(hours=1)
    events: list[dict[str, object]] = []
    for m in range(members):
        sender = {"id_type": "app_user", "id": f"{run_id}-member-{m}"}
        events.append(
            {
                "source_event_id": f"{run_id}-join-{m}",
                "community_id": "store-001-estate-a",
                "store_id": "store-001",
                "sender": sender,
                "sent_at": (start + timedelta(minutes=m)).isoformat(),
                "kind": "join",
            }
        )
        for n, text in enumerate(TEXTS[: 1 + m % len(TEXTS)]):
            events.append(
                {
                    "source_event_id": f"{run_id}-msg-{m}-{n}",
                    "community_id": "store-001-estate-a",
                    "store_id": "store-001",
                    "sender": sender,
                    "sent_at": (start + timedelta(minutes=m, seconds=n + 1)).isoformat(),
                    "kind": "text",
                    "text": text,
                }
            )
    return events


async def publish(settings: KafkaSettings, events: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        header = [(SOURCE_FORMAT_HEADER, SourceFormat.CHAT_JSON.value.encode())]
        for event in events:
            await producer.send(RAW_CHAT.name, json.dumps(event, ensure_ascii=False).encode(), headers=header)
        # Hostile input is part of life: it must land in the DLQ with a reason, not stop anything.
        broken = f"<xml>{events[0]['source_event_id']} is not json</xml>".encode()
        await producer.send(RAW_CHAT.name, broken, headers=header)
        await producer.send(RAW_CHAT.name, json.dumps(events[0]).encode(), headers=header)  # a duplicate
        await producer.flush()
    finally:
        await producer.stop()


async def _wait_assigned(consumer: AIOKafkaConsumer) -> None:
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=200)
    for tp in consumer.assignment():
        await consumer.seek_to_end(tp)


async def run(members: int = 5, timeout_s: float = 120.0) -> int:
    settings = KafkaSettings()
    run_id = uuid.uuid4().hex[:8]
    print(f"demo {run_id}: starting the four services…", flush=True)
    services = start_services(REPO_ROOT / "out" / "logs")
    try:
        for s in services:
            print(f"  {s.name:<10} ready   metrics {s.base_url}/metrics   log {s.log_path.relative_to(REPO_ROOT)}")
        consumer = AIOKafkaConsumer(
            *[spec.name for spec in WATCHED],
            bootstrap_servers=settings.bootstrap_servers,
            group_id=f"demo-watch-{run_id}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
        )
        await consumer.start()
        await _wait_assigned(consumer)
        events = chat_events(run_id, members)
        started = time.perf_counter()
        await publish(settings, events)
        print(
            f"published {len(events)} chat events for {members} members, 1 broken record and 1 duplicate "
            f"to {RAW_CHAT.name}"
        )
        # The topics may hold other runs' records (earlier demos, benchmarks): only this run's
        # members count. They are learnt from the canonical events, whose source ids carry the run id.
        ours: set[str] = set()
        counts: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        dlq_reasons: Counter[str] = Counter()

        def note(record: Any) -> None:
            body = json.loads(record.value)
            if record.topic == INGEST_DLQ.name:
                if run_id in base64.b64decode(body.get("original_value_b64", "")).decode("utf-8", "replace"):
                    counts[record.topic] += 1
                    dlq_reasons[body["error_code"]] += 1
                return
            if record.topic in (MEMBER_CHAT.name, MEMBER_COMMUNITY.name) and run_id in body.get("source_event_id", ""):
                ours.add(body["member_id"])
            if body.get("member_id") not in ours:
                return
            counts[record.topic] += 1
            if record.topic == NOTIFICATION_STATUS.name:
                statuses[f"{body['channel']}/{body['status']}/{body.get('error_code') or '-'}"] += 1

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and counts[NOTIFICATION_STATUS.name] < members:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    note(record)
        # Let late DLQ records arrive too.
        for records in (await consumer.getmany(timeout_ms=2000)).values():
            for record in records:
                note(record)
        await consumer.stop()
        elapsed = time.perf_counter() - started
        print("\nwhat happened:")
        for spec in WATCHED:
            print(f"  {spec.name:<24} {counts[spec.name]:>5} records")
        print(f"  notifier outcomes: {dict(statuses)}")
        print(f"  dead letters by reason: {dict(dlq_reasons)}")
        print(f"  end to end in {elapsed:.1f}s")
        ok = counts[NOTIFICATION_STATUS.name] >= members and dlq_reasons["invalid_json"] >= 1
        print("demo OK" if ok else "demo INCOMPLETE: see out/logs/")
        return 0 if ok else 1
    finally:
        codes = stop_services(services)
        print(f"services stopped: {codes}; the stack keeps running (make down stops it)")


def main() -> None:
    raise SystemExit(asyncio.run(run()))


if __name__ == "__main__":
    main()
