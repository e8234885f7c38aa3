"""The HTTP API and file replay feed the same pipeline as Kafka: signed, replay-proof, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.ingest.adapters.raw_records import parse_body
from services.ingest.domain.event_order import event_time
from services.ingest.domain.signatures import hmac_signature, wechat_signature
from services.ingest.entrypoints.settings import IngestSettings
from shared.kafka.admin import describe_partitions
from tests.integration.ingest.conftest import WEBHOOK_SECRET, WECHAT_ACCOUNT, WECHAT_TOKEN, ingest_env
from tests.stack import REPO_ROOT
from tools import upstream as make

pytestmark = pytest.mark.integration


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {
        "X-MemberPulse-Timestamp": timestamp,
        "X-MemberPulse-Signature": hmac_signature(secret.encode(), timestamp, body),
        "Content-Type": "application/json",
    }


async def test_a_signed_batch_is_accepted_per_event_and_rejected_events_are_dead_lettered_with_the_request_id(
    ingest_service, outputs
):
    run = uuid.uuid4().hex[:10]
    at = datetime.now(UTC) - timedelta(minutes=30)
    good = [json.loads(make.chat_json(run, n, n, at).body) for n in range(3)]
    bad = {**good[0], "source_event_id": f"{run}-bad", "sent_at": "2099-01-01T00:00:00+00:00"}
    body = json.dumps({"events": [*good, bad]}, ensure_ascii=False).encode()
    async with httpx.AsyncClient(base_url=ingest_service.base_url) as client:
        response = await client.post("/v1/events/chat_json", content=body, headers=signed(body))
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (3, 1)
    assert answer["results"][3] == {
        "index": 3,
        "status": "rejected",
        "code": "timestamp_out_of_range",
        "message": answer["results"][3]["message"],
    }
    await outputs.until(
        lambda o: len(o.events("member.chat.v1", run)) == 3 and o.letters(run), what="3 chats, 1 letter"
    )
    [letter] = outputs.letters(run)
    assert letter["origin_request_id"] == answer["request_id"]
    assert letter["original_topic"] == "/v1/events/chat_json"
    assert letter["error_code"] == "timestamp_out_of_range"
    assert {c["text"] for c in outputs.events("member.chat.v1", run)} <= set(make.CHAT_TEXTS)


async def test_unsigned_forged_stale_replayed_and_oversized_requests_are_refused_and_store_nothing(
    ingest_service, outputs
):
    run = uuid.uuid4().hex[:10]
    body = json.dumps([json.loads(make.chat_json(run, 1, 1, datetime.now(UTC)).body)]).encode()
    async with httpx.AsyncClient(base_url=ingest_service.base_url) as client:
        unsigned = await client.post("/v1/events/chat_json", content=body)
        forged = await client.post("/v1/events/chat_json", content=body, headers=signed(body, secret="guess"))
        stale = await client.post("/v1/events/chat_json", content=body, headers=signed(body, at=time.time() - 3600))
        unknown = await client.post("/v1/events/telegram", content=body, headers=signed(body))
        headers = signed(body)
        first = await client.post("/v1/events/chat_json", content=body, headers=headers)
        replayed = await client.post("/v1/events/chat_json", content=body, headers=headers)
        huge = b"[" + b" " * 6_000_000 + b"]"
        oversized = await client.post("/v1/events/chat_json", content=huge, headers=signed(huge))
    assert [r.status_code for r in (unsigned, forged, stale, unknown)] == [401, 401, 401, 404]
    assert (first.status_code, replayed.status_code, oversized.status_code) == (202, 409, 413)
    for refused in (unsigned, forged, stale, unknown, replayed, oversized):
        assert refused.json()["error"], "a machine-readable reason comes back"
        assert refused.json()["message"], "and a human-readable one"
    await outputs.until(lambda o: o.events("member.chat.v1", run), what="the one accepted chat")
    await outputs.settle(2.0)
    assert len(outputs.events("member.chat.v1", run)) == 1, "the replay was not processed"
    assert outputs.letters(run) == [], "refused requests leave nothing behind, not even a dead letter"


async def test_the_wechat_callback_answers_the_echo_check_and_takes_signed_pushes(ingest_service, outputs):
    run = uuid.uuid4().hex[:10]
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:8]
    query = {"timestamp": timestamp, "nonce": nonce, "signature": wechat_signature(WECHAT_TOKEN, timestamp, nonce)}
    push = make.wechat_text(run, 1, 1, datetime.now(UTC) - timedelta(minutes=1), account=WECHAT_ACCOUNT).body
    async with httpx.AsyncClient(base_url=ingest_service.base_url) as client:
        echo = await client.get(f"/v1/wechat/{WECHAT_ACCOUNT}", params={**query, "echostr": "echo-4711"})
        wrong = await client.get(f"/v1/wechat/{WECHAT_ACCOUNT}", params={**query, "signature": "0" * 40})
        pushed = await client.post(f"/v1/wechat/{WECHAT_ACCOUNT}", params=query, content=push)
        again = await client.post(f"/v1/wechat/{WECHAT_ACCOUNT}", params=query, content=push)
    assert (echo.status_code, echo.text) == (200, "echo-4711")
    assert wrong.status_code == 401
    assert (pushed.status_code, pushed.text) == (200, "success")
    assert again.status_code == 409
    await outputs.until(lambda o: o.events("member.chat.v1", run), what="the pushed message")
    [chat] = outputs.events("member.chat.v1", run)
    assert (chat["source"], chat["text"]) == ("wechat_oa", make.CHAT_TEXTS[1])


async def test_a_signed_template_send_result_push_becomes_one_notification_receipt_for_the_follower(
    ingest_service, outputs
):
    run = uuid.uuid4().hex[:10]
    msg_id = str(int(run, 16))  # WeChat msgids are numbers; this one is unique to the run
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    chat = make.wechat_text(run, 1, 1, at, account=WECHAT_ACCOUNT).body
    receipt = (
        f"<xml><ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[o{run}{1:08d}]]></FromUserName>"
        f"<CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{msg_id}</MsgID>"
        "<Status><![CDATA[failed:user block]]></Status></xml>"
    ).encode()

    def signed_query() -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:8]
        return {"timestamp": timestamp, "nonce": nonce, "signature": wechat_signature(WECHAT_TOKEN, timestamp, nonce)}

    async with httpx.AsyncClient(base_url=ingest_service.base_url) as client:
        # The follower's message, the receipt, and the receipt again as a freshly signed retry.
        answers = [
            await client.post(f"/v1/wechat/{WECHAT_ACCOUNT}", params=signed_query(), content=body)
            for body in (chat, receipt, receipt)
        ]
    assert [(a.status_code, a.text) for a in answers] == [(200, "success")] * 3

    def receipts() -> list[dict[str, Any]]:
        return [
            body
            for topic, body, _ in outputs.records
            if topic == "notification.receipt.v1" and body["provider_message_id"] == msg_id
        ]

    await outputs.until(lambda o: receipts() and o.events("member.chat.v1", run), what="the receipt and the chat")
    await outputs.settle(2.0)
    [sent] = receipts()
    [follower_chat] = outputs.events("member.chat.v1", run)
    assert datetime.fromisoformat(sent.pop("occurred_at")) == at
    assert sent == {
        "member_id": follower_chat["member_id"],
        "channel": "wechat",
        "provider_message_id": msg_id,
        "delivered": False,
        "provider_status": "failed:user block",
        "source": "wechat_oa",
    }
    assert outputs.letters(run) == []


async def test_replaying_a_file_gives_what_live_delivery_gives_and_a_second_replay_adds_nothing(
    bootstrapped, ingest_service, outputs, tmp_path
):
    run = uuid.uuid4().hex[:10]
    records = [r for r in make.realistic_mix(run, 60, 12) if r.source_format == "chat_json"]
    lines = tmp_path / "history.jsonl"
    lines.write_bytes(b"\n".join(r.body for r in records) + b"\n" + b'{"broken": ' + run.encode() + b"\n")
    xml = tmp_path / "wechat.xml"
    pushes = [make.wechat_text(run, n, n, datetime(2024, 2, 1, tzinfo=UTC) + timedelta(hours=n)).body for n in range(5)]
    xml.write_bytes(b"<messages>" + b"".join(pushes) + b"</messages>")
    env = {**os.environ, **ingest_env(bootstrapped)}

    def replay(path: Path, source: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "services.ingest", "replay", str(path), "--source", source],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert "1 of them are invalid" in replay(lines, "chat_json")
    replay(xml, "wechat_oa")
    expected = len(records) + len(pushes)
    await outputs.until(lambda o: len(o.events("member.chat.v1", run)) == expected and o.letters(run), what="replay")
    replay(lines, "chat_json")
    await outputs.settle(4.0)
    assert len(outputs.events("member.chat.v1", run)) == expected, "a second replay is absorbed by dedup"
    assert len(outputs.letters(run)) == 2, "the broken line is dead-lettered per replay, with its offset"
    assert {c["occurred_at"][:10] for c in outputs.events("member.chat.v1", run) if c["source"] == "wechat_oa"} == {
        "2024-02-01"
    }


async def test_files_replayed_together_reach_the_raw_topic_oldest_event_first(bootstrapped, ingest_service, tmp_path):
    run = uuid.uuid4().hex[:10]
    start = datetime(2024, 3, 1, tzinfo=UTC)
    # Two exports of the same weeks: app chats at even hours, WeChat messages at odd ones.
    chats = [make.chat_json(run, n, n, start + timedelta(hours=2 * n)).body for n in range(12)]
    pushes = [make.wechat_text(run, n, n, start + timedelta(hours=2 * n + 1)).body for n in range(12)]
    (tmp_path / "chat_json.jsonl").write_bytes(b"\n".join(chats) + b"\n")
    (tmp_path / "wechat_oa.xml").write_bytes(b"<messages>" + b"".join(pushes) + b"</messages>")
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrapped.kafka.bootstrap_servers, enable_auto_commit=False)
    await reader.start()
    try:
        counts = await describe_partitions(bootstrapped.kafka.bootstrap_servers, ["raw.chat.v1"])
        partitions = [TopicPartition("raw.chat.v1", p) for p in range(counts["raw.chat.v1"])]
        reader.assign(partitions)
        for tp, end in (await reader.end_offsets(partitions)).items():
            reader.seek(tp, end)
        done = subprocess.run(
            [sys.executable, "-m", "services.ingest", "replay", "chat_json.jsonl", "wechat_oa.xml"],
            cwd=tmp_path,
            env={**os.environ, **ingest_env(bootstrapped), "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "published 12 records from chat_json.jsonl" in done.stderr
        assert "published 12 records from wechat_oa.xml" in done.stderr
        by_partition: dict[int, list[tuple[str, datetime]]] = {}
        deadline = time.monotonic() + 30
        while sum(map(len, by_partition.values())) < 24 and time.monotonic() < deadline:
            for tp, batch in (await reader.getmany(timeout_ms=500)).items():
                for record in batch:
                    if run.encode() in (record.value or b""):
                        source = dict(record.headers)["mp-source-format"].decode()
                        parsed = parse_body(source, record.value or b"", IngestSettings().parser())
                        when = event_time(parsed, lambda _: "UTC")
                        assert when is not None
                        by_partition.setdefault(tp.partition, []).append((source, when))
    finally:
        await reader.stop()
    assert sum(map(len, by_partition.values())) == 24
    assert any(len({source for source, _ in records}) == 2 for records in by_partition.values()), (
        "no partition holds both files' records: the test shows nothing"
    )
    for records in by_partition.values():
        assert [when for _, when in records] == sorted(when for _, when in records), records
