"""Raw records on Kafka, in every upstream format, become canonical member events exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.kafka.progress import is_progress_mark
from tests.integration.ingest.conftest import Outputs, ingest_env
from tests.stack import REPO_ROOT
from tools import upstream as make

pytestmark = pytest.mark.integration


def run_id() -> str:
    return uuid.uuid4().hex[:10]


async def test_every_source_format_becomes_its_canonical_event(ingest_service, outputs, upstream):
    run = run_id()
    at = datetime.now(UTC) - timedelta(hours=2)
    records = [
        make.chat_json(run, 1, 1, at),
        make.wecom_message(run, 2, 2, at),
        make.wechat_text(run, 3, 3, at),
        make.wechat_follow(run, 4, at),
        make.pos_receipt(run, 5, 5, at),
        make.ecom_order(run, 6, 6, at),
        make.csv_receipt(run, 7, 7, at),
    ]
    await upstream(*records)
    await outputs.until(
        lambda o: (
            len(o.events("member.chat.v1", run)) == 3
            and len(o.events("member.purchase.v1", run)) == 3
            and len(o.events("member.community.v1", run)) == 1
        ),
        what="3 chats, 1 follow, 3 purchases",
    )
    chats = {c["source"]: c for c in outputs.events("member.chat.v1", run)}
    assert chats["chat_json"]["text"] == make.CHAT_TEXTS[1]
    assert chats["wecom_archive"]["text"] == make.CHAT_TEXTS[2]
    assert chats["wechat_oa"]["text"] == make.CHAT_TEXTS[3], "Kazakh Cyrillic text arrives byte-exact"
    [follow] = outputs.events("member.community.v1", run)
    assert follow["action"] == "follow"
    purchases = {p["channel"] + ":" + p["source"]: p for p in outputs.events("member.purchase.v1", run)}
    assert set(purchases) == {"pos:pos_receipt", "ecom:ecom_order", "pos:purchases_csv"}
    pos = purchases["pos:pos_receipt"]
    assert pos["occurred_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S")), "Shanghai wall time converted to UTC"
    assert pos["total_minor"] == sum(line["amount_minor"] for line in pos["lines"])
    for topic in ("member.chat.v1", "member.purchase.v1"):
        for event in outputs.events(topic, run):
            assert run not in event["member_id"], "member ids are keyed hashes, never raw identifiers"


async def test_a_redelivered_or_resent_event_is_published_once(ingest_service, outputs, upstream):
    run = run_id()
    at = datetime.now(UTC) - timedelta(hours=1)
    record = make.chat_json(run, 1, 1, at)
    receipt = make.pos_receipt(run, 2, 1, at)
    await upstream(record, receipt, record, receipt)
    await outputs.until(lambda o: o.events("member.purchase.v1", run) and o.events("member.chat.v1", run))
    # The same receipt again, this time in a CSV export: one purchase, not two.
    await upstream(record, receipt)
    await outputs.settle(4.0)
    assert len(outputs.events("member.chat.v1", run)) == 1
    assert len(outputs.events("member.purchase.v1", run)) == 1


async def test_bad_records_are_dead_lettered_with_reasons_while_good_ones_in_the_batch_pass(
    ingest_service, outputs, upstream
):
    run = run_id()
    bad = make.bad_records(run)
    good = make.chat_json(run, 1, 1, datetime.now(UTC) - timedelta(minutes=5))
    await upstream(*[(fmt, body) for fmt, body, _ in bad], good)
    await outputs.until(lambda o: len(o.letters(run)) == len(bad) and o.events("member.chat.v1", run), what="letters")
    assert sorted(letter["error_code"] for letter in outputs.letters(run)) == sorted(code for _, _, code in bad)
    for letter in outputs.letters(run):
        assert letter["service"] == "ingest"
        assert letter["error_message"]
        assert letter["original_topic"] in ("raw.chat.v1", "raw.purchase.v1")
        assert letter["original_offset"] is not None
        assert letter["source"] in {fmt for fmt, _, _ in bad}
    await outputs.settle(2.0)
    assert len(outputs.letters(run)) == len(bad), "each rejected record is dead-lettered once"
    assert len(outputs.events("member.chat.v1", run)) == 1


async def test_identifiers_seen_together_link_and_two_members_found_to_be_one_are_merged(
    ingest_service, outputs, upstream
):
    run = run_id()
    at = datetime.now(UTC) - timedelta(hours=3)
    phone = f"+86 139 {int(run[:8], 16) % 10**8:08d}"
    # Member A is known by a loyalty card; member B, later, by a phone number in the web shop.
    card_only = make.pos_receipt(run, 1, 1, at)
    phone_only = json.loads(make.ecom_order(run, 2, 2, at + timedelta(minutes=5)).body)
    phone_only["customer"] = {"phone": phone}
    await upstream(card_only, ("ecom_order", json.dumps(phone_only).encode()))
    await outputs.until(lambda o: len(o.events("member.purchase.v1", run)) == 2)
    first, second = sorted(outputs.events("member.purchase.v1", run), key=lambda p: p["occurred_at"])
    assert first["member_id"] != second["member_id"]
    # A till receipt carrying both the card and the phone (written differently) shows they are one person.
    both = make.pos_receipt(run, 3, 1, at + timedelta(minutes=10), phone=phone.replace(" ", "").replace("+86", ""))
    await upstream(both)
    await outputs.until(
        lambda o: (
            o.events("member.merged.v1", first["member_id"]) != [] and len(o.events("member.purchase.v1", run)) == 3
        )
    )
    [merge] = outputs.events("member.merged.v1", first["member_id"])
    assert (merge["member_id"], merge["merged_member_id"]) == (first["member_id"], second["member_id"]), (
        "the member seen first survives"
    )
    third = max(outputs.events("member.purchase.v1", run), key=lambda p: p["occurred_at"])
    assert third["member_id"] == first["member_id"]


async def test_a_refund_after_a_payment_is_one_refund_and_never_a_second_sale(ingest_service, outputs, upstream):
    run = run_id()
    at = datetime.now(UTC) - timedelta(hours=5)
    paid = make.ecom_order(run, 1, 1, at, version=1, status="paid")
    paid_again = make.ecom_order(run, 1, 1, at, version=2, status="paid")
    refunded = make.ecom_order(run, 1, 1, at, version=3, status="partially_refunded", refund=True)
    await upstream(paid, paid_again, refunded, refunded)
    await outputs.until(lambda o: len(o.events("member.purchase.v1", run)) >= 2)
    await outputs.settle(3.0)
    kinds = sorted(p["kind"] for p in outputs.events("member.purchase.v1", run))
    assert kinds == ["refund", "sale"]
    refund = next(p for p in outputs.events("member.purchase.v1", run) if p["kind"] == "refund")
    assert refund["original_purchase_id"] == f"ecom:{run}-o1"


async def test_store_registry_gives_pos_times_their_zone_and_unknown_stores_are_flagged(
    bootstrapped, ingest_service, outputs, upstream, tmp_path
):
    run = run_id()
    stores = tmp_path / "stores.csv"
    stores.write_text(f"store_id,name,timezone,region,city\n{run}-berlin,Filiale Mitte,Europe/Berlin,EU,Berlin\n")
    loaded = subprocess.run(
        [sys.executable, "-m", "services.ingest", "stores", "load", str(stores)],
        cwd=REPO_ROOT,
        env={**__import__("os").environ, **ingest_env(bootstrapped)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 1 stores" in loaded.stderr
    receipt = json.loads(make.pos_receipt(run, 1, 1, datetime(2026, 3, 29, tzinfo=UTC)).body)
    # 03:30 local on the night Berlin springs forward is 01:30 UTC (CEST, +02:00).
    receipt |= {"store_id": f"{run}-berlin", "issued_at": "2026-03-29T03:30:00"}
    unknown = json.loads(make.pos_receipt(run, 2, 1, datetime(2026, 3, 29, tzinfo=UTC)).body)
    unknown |= {"store_id": f"{run}-nowhere"}
    await upstream(("pos_receipt", json.dumps(receipt).encode()), ("pos_receipt", json.dumps(unknown).encode()))
    await outputs.until(lambda o: len(o.events("member.purchase.v1", run)) == 2)
    by_store = {p["store_id"]: p for p in outputs.events("member.purchase.v1", run)}
    assert by_store[f"{run}-berlin"]["occurred_at"] == "2026-03-29T01:30:00Z"
    assert by_store[f"{run}-berlin"]["unknown_store"] is False
    assert by_store[f"{run}-nowhere"]["unknown_store"] is True
    assert set(by_store[f"{run}-nowhere"]["unknown_skus"]) == {
        line["sku"] for line in by_store[f"{run}-nowhere"]["lines"]
    }


async def test_after_its_events_ingest_marks_every_member_partition_complete_up_to_them(
    ingest_service, outputs, upstream
):
    run = run_id()
    # Newer than any other test's events: a mark promises only time past what ingest already promised.
    at = datetime.now(UTC) + timedelta(hours=1)
    await upstream(make.chat_json(run, 1, 1, at), make.pos_receipt(run, 2, 2, at + timedelta(seconds=1)))
    await outputs.until(lambda o: len(o.events("member.purchase.v1", run)) == 1, what="the chat and the receipt")

    def marks(o: Outputs, topic: str) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
        return [(body, headers) for t, body, headers in o.records if t == topic and is_progress_mark(headers.items())]

    def covered(o: Outputs, topic: str) -> set[int]:
        # The partitions of ``topic`` whose marks promise everything up to the receipt.
        return {body["partition"] for body, _ in marks(o, topic) if datetime.fromisoformat(body["until"]) >= at}

    for topic in ("member.chat.v1", "member.community.v1", "member.purchase.v1", "member.merged.v1"):
        await outputs.until(lambda o, topic=topic: covered(o, topic) == set(range(12)), what=f"marks on {topic}")
    body, _ = marks(outputs, "member.purchase.v1")[-1]
    assert body["universe"] == {"raw.chat.v1": 12, "raw.purchase.v1": 12}
    assert len(body["origins"]) == 24, "one ingest process owns every raw partition and says so"
    chat = outputs.events("member.chat.v1", run)
    assert chat, "the marks are not events: the chat is found among the events as before"
