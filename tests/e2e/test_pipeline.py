"""The four services as real processes: a chat event upstream becomes a notifier outcome downstream."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from tools.demo import chat_events, publish
from tools.services import start_services, stop_services

# Ports away from a demo that may be running on the defaults.
PORT_OFFSET = 1000


async def test_chat_events_flow_through_all_four_services_and_bad_input_lands_in_the_dlq(bootstrapped, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    members = 3
    services = start_services(tmp_path / "logs", env=bootstrapped.env(), port_offset=PORT_OFFSET)
    watcher = AIOKafkaConsumer(
        "notification.status.v1",
        "ingest.dlq.v1",
        "member.state.v1",
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers,
        group_id=f"e2e-{run_id}",
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    try:
        await watcher.start()
        while not watcher.assignment():
            await watcher.getmany(timeout_ms=200)
        for tp in watcher.assignment():
            await watcher.seek_to_end(tp)
        await publish(bootstrapped.kafka, chat_events(run_id, members))

        statuses: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for _ in range(240):
            for records in (await watcher.getmany(timeout_ms=500)).values():
                for record in records:
                    body = json.loads(record.value)
                    {"notification.status.v1": statuses, "ingest.dlq.v1": dead, "member.state.v1": states}[
                        record.topic
                    ].append(body)
            if len(statuses) >= members and dead:
                break

        assert len({s["offer_id"] for s in statuses}) == members, "one offer outcome per new member"
        assert len(statuses) == members, "no offer reported twice, although one raw event was sent twice"
        assert {s["status"] for s in statuses} == {"suppressed"}  # no channel provider configured yet
        assert [d["error_code"] for d in dead] == ["invalid_json"]
        assert {s["lifecycle"] for s in states} == {"new"}
        metrics = httpx.get(f"http://127.0.0.1:{8081 + PORT_OFFSET}/metrics").text
        assert 'memberpulse_dlq_records_total{reason="invalid_json",service="ingest"}' in metrics
    finally:
        await watcher.stop()
        codes = stop_services(services)
    assert codes == {"ingest": 0, "scoring": 0, "campaigns": 0, "notifier": 0}, (
        "SIGTERM must stop every service cleanly"
    )
