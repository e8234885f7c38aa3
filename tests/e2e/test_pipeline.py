"""The four services as real processes: a chat event upstream becomes a notifier outcome downstream."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.entrypoints.settings import IngestSettings
from shared.contracts import derived_event_id
from tools.demo.smoke import chat_events, publish
from tools.services import start_services, stop_services

# Ports away from a demo that may be running on the defaults.
PORT_OFFSET = 1000


async def test_chat_events_flow_through_all_four_services_and_bad_input_lands_in_the_dlq(bootstrapped, tmp_path):
    run_id = uuid.uuid4().hex[:8]
    members = 3
    salt = IngestSettings().pii_salt.get_secret_value().encode()
    member_ids = {member_id_for(identifier("app_user_id", f"{run_id}-member-{m}", salt)) for m in range(members)}
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

        # A member's first state (version 1) enters "new", which the default welcome campaign greets.
        welcomes = {derived_event_id("offer", "welcome", m, "state:1") for m in member_ids}
        statuses: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for _ in range(240):
            for records in (await watcher.getmany(timeout_ms=500)).values():
                for record in records:
                    body = json.loads(record.value)
                    if not _ours(body, run_id, member_ids):
                        continue  # other tests' members flow through the same topics
                    {"notification.status.v1": statuses, "ingest.dlq.v1": dead, "member.state.v1": states}[
                        record.topic
                    ].append(body)
            if welcomes <= {s["offer_id"] for s in statuses} and dead:
                break

        reported = [s["offer_id"] for s in statuses]
        # Each new member is welcomed; the default campaigns may add others (the members all ask
        # about strawberries, which is community interest), but none may be reported twice.
        assert welcomes <= set(reported), "every new member's welcome offer has an outcome"
        assert len(reported) == len(set(reported)), "no offer reported twice, although one raw event was sent twice"
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


def _ours(body: dict[str, Any], run_id: str, member_ids: set[str]) -> bool:
    if "original_value_b64" in body:
        return run_id in base64.b64decode(body["original_value_b64"]).decode("utf-8", "replace")
    return body.get("member_id") in member_ids
