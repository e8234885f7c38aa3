"""What a run left behind, read back from the topics, the services' tables and the provider sinks."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from shared.contracts.topics import (
    MEMBER_CHAT,
    MEMBER_COMMUNITY,
    MEMBER_MERGED,
    MEMBER_PURCHASE,
    OFFER_ISSUED,
)
from shared.kafka.progress import is_progress_mark
from shared.settings import Settings
from tools.demo.figures.ingest import DLQ_TOPICS
from tools.kafka_probe import KafkaProbe, Offsets, records_between
from tools.oracle import body_digest

INGEST_OUTPUT = (MEMBER_CHAT.name, MEMBER_COMMUNITY.name, MEMBER_PURCHASE.name, MEMBER_MERGED.name)
WATCHED = (*INGEST_OUTPUT, OFFER_ISSUED.name, *DLQ_TOPICS)


@dataclass(frozen=True)
class Purchase:
    event_id: str
    member_id: str
    sale: bool
    total_minor: int


@dataclass
class Observed:
    # Ingest's output: how often each event id and each upstream event id was published.
    event_ids: Counter[str] = field(default_factory=Counter)
    source_event_ids: Counter[str] = field(default_factory=Counter)
    # When each upstream event first came out of ingest (the output record's timestamp, ms).
    out_at_ms: dict[str, int] = field(default_factory=dict)
    # When Kafka acknowledged each good upstream record to the run's publisher (wall ms; set by the
    # scenario, which published them): an upstream late with a record, against ingest late with it.
    acked_at_ms: dict[str, int] = field(default_factory=dict)
    purchases: list[Purchase] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (survivor, merged), in publish order
    # (service, body digest, reason) of every dead letter.
    dead_letters: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    offers_published: Counter[str] = field(default_factory=Counter)
    # scoring: (sales, sales_minor, refunds, refunds_minor) of every member not merged away.
    scoring_totals: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    # scoring: (first_purchase_at, last_purchase_at) of every member not merged away.
    scoring_sale_span: dict[str, tuple[datetime | None, datetime | None]] = field(default_factory=dict)
    # scoring: (lifecycle, engagement tier, value tier) of every member not merged away.
    scoring_states: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    # scoring: every member's recorded state changes, by version: (version, at, lifecycle, tier, reasons).
    scoring_changes: dict[str, list[tuple[int, datetime, str, str, tuple[str, ...]]]] = field(default_factory=dict)
    # scoring: when it recorded each change (member, version) on the wall clock, in ms.
    scoring_recorded_ms: dict[tuple[str, int], int] = field(default_factory=dict)
    issued_offer_ids: list[str] = field(default_factory=list)
    # campaigns: how many decisions each (member, campaign, state version) of a lifecycle campaign got.
    lifecycle_decisions: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    # campaigns: each offer's (member, campaign, decided at).
    offer_of: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    # campaigns: every member's decisions, as (campaign, decided at, outcome, reason).
    decisions: dict[str, list[tuple[str, datetime, str, str | None]]] = field(default_factory=dict)
    sends: list[tuple[str, str, str]] = field(default_factory=list)  # (offer_id, channel, status)
    sink_keys: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, idempotency key)
    smtp_messages: int = 0
    smtp_duplicates: int = 0


async def watched_ends(bootstrap: str) -> Offsets:
    """The end offsets of every topic the verdict reads: where a run's records begin."""
    async with KafkaProbe(bootstrap) as probe:
        return await probe.end_offsets(await probe.partitions(list(WATCHED)))


async def observe(settings: Settings, since: Offsets, sink_url: str) -> Observed:
    seen = Observed()
    for record in await records_between(settings.kafka.bootstrap_servers, since):
        _note(seen, record.topic, dict(record.headers), record.value, record.timestamp)
    conn = await asyncpg.connect(settings.pg.dsn_for("scoring"))
    try:
        rows = await conn.fetch(
            """SELECT member_id, sales, sales_minor, refunds, refunds_minor, first_purchase_at, last_purchase_at,
                      lifecycle, engagement_tier, value_tier
               FROM members WHERE merged_into IS NULL"""
        )
        seen.scoring_totals = {
            r["member_id"]: (r["sales"], r["sales_minor"], r["refunds"], r["refunds_minor"]) for r in rows
        }
        seen.scoring_sale_span = {r["member_id"]: (r["first_purchase_at"], r["last_purchase_at"]) for r in rows}
        seen.scoring_states = {r["member_id"]: (r["lifecycle"], r["engagement_tier"], r["value_tier"]) for r in rows}
        for r in await conn.fetch(
            """SELECT member_id, state_version, at, to_lifecycle, engagement_tier, reasons, recorded_at
               FROM transitions ORDER BY member_id, state_version"""
        ):
            seen.scoring_changes.setdefault(r["member_id"], []).append(
                (r["state_version"], r["at"], r["to_lifecycle"], r["engagement_tier"], tuple(r["reasons"]))
            )
            seen.scoring_recorded_ms[(r["member_id"], r["state_version"])] = int(r["recorded_at"].timestamp() * 1000)
    finally:
        await conn.close()
    conn = await asyncpg.connect(settings.pg.dsn_for("campaigns"))
    try:
        rows = await conn.fetch("SELECT offer_id FROM decisions WHERE outcome IN ('issued', 'queued')")
        seen.issued_offer_ids = [r["offer_id"] for r in rows]
        for r in await conn.fetch(
            "SELECT member_id, campaign_id, occurrence FROM decisions WHERE kind = 'lifecycle_entered'"
        ):
            version = int(r["occurrence"].removeprefix("state:"))
            seen.lifecycle_decisions[(r["member_id"], r["campaign_id"], version)] += 1
        for r in await conn.fetch(
            "SELECT offer_id, member_id, campaign_id, decided_at, outcome, reason FROM decisions"
        ):
            seen.decisions.setdefault(r["member_id"], []).append(
                (r["campaign_id"], r["decided_at"], r["outcome"], r["reason"])
            )
            seen.offer_of[r["offer_id"]] = (r["member_id"], r["campaign_id"], r["decided_at"])
    finally:
        await conn.close()
    conn = await asyncpg.connect(settings.pg.dsn_for("notifier"))
    try:
        rows = await conn.fetch("SELECT offer_id, channel, status FROM sends")
        seen.sends = [(r["offer_id"], r["channel"], r["status"]) for r in rows]
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=sink_url, timeout=30.0) as http:
        deliveries = (await http.get("/_sink/deliveries")).json()["deliveries"]
        stats = (await http.get("/_sink/stats")).json()
    seen.sink_keys = Counter((d["channel"], d["idempotency_key"]) for d in deliveries)
    seen.smtp_messages = int(stats.get("smtp", {}).get("messages", 0))
    seen.smtp_duplicates = int(stats.get("smtp", {}).get("duplicates", 0))
    return seen


def _note(seen: Observed, topic: str, headers: dict[str, bytes], value: bytes | None, timestamp: int) -> None:
    if is_progress_mark(headers.items()):
        return  # ingest's progress marks on the member topics: the stream's clock, no event
    payload: dict[str, Any] = json.loads(value or b"{}")
    if topic in DLQ_TOPICS:
        original = base64.b64decode(payload["original_value_b64"])
        seen.dead_letters[(DLQ_TOPICS[topic], body_digest(original), payload["error_code"])] += 1
    elif topic == OFFER_ISSUED.name:
        seen.offers_published[payload["offer_id"]] += 1
    else:
        event_id = headers["ce_id"].decode()
        seen.event_ids[event_id] += 1
        if topic == MEMBER_MERGED.name:
            seen.merges.append((payload["member_id"], payload["merged_member_id"]))
            return
        seen.source_event_ids[payload["source_event_id"]] += 1
        seen.out_at_ms.setdefault(payload["source_event_id"], timestamp)
        if topic == MEMBER_PURCHASE.name:
            seen.purchases.append(
                Purchase(event_id, payload["member_id"], payload["kind"] == "sale", int(payload["total_minor"]))
            )
