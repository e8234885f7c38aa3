"""Phase 1's backlog: a year of canonical events generated and published before scoring starts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.ingest_throughput import new_run_id, progress
from bench.kafka_ops import Ranges
from bench.scoring.config import EVENTS_PER_MEMBER, GROUP, HISTORY_DAYS, HISTORY_SEED
from bench.scoring.stack import Bench
from bench.service_bench.backlog import publish_backlog
from bench.service_bench.stack import execute, move_group_to_end
from shared.contracts import (
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
)
from tools.member_history import HistorySpec, as_record, member_history


@dataclass(frozen=True)
class Preloaded:
    run: str
    members: int
    events: list[MemberEvent]
    event_ids: list[str]
    ranges: Ranges
    rate: float

    @property
    def purchases(self) -> int:
        return sum(1 for e in self.events if isinstance(e, MemberPurchaseV1))


def history(run: str, wanted: int) -> tuple[int, list[MemberEvent]]:
    """At least ``wanted`` events of a year ending now, and the members they belong to."""
    start = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    members = max(1, math.ceil(wanted / EVENTS_PER_MEMBER))
    while True:
        events = member_history(HistorySpec(run, members, HISTORY_DAYS, HISTORY_SEED), start)
        if len(events) >= wanted:
            return members, events
        members = math.ceil(members * wanted / max(1, len(events)) * 1.02) + 1


async def preload(bench: Bench) -> Preloaded:
    run = new_run_id()
    members, events = history(run, bench.args.events)
    bench.prefixes.append(f"m_{run}_")
    records = [as_record(event) for event in events]
    bench.communities |= {e.community_id for e in events if isinstance(e, MemberChatV1 | MemberCommunityV1)}
    event_ids = [dict(record.headers)["ce_id"].decode() for record in records]
    progress(f"phase 1: run {run}, {len(records):,} events of {members:,} members; moving group {GROUP!r} to the end…")
    ends = await move_group_to_end(bench)
    # The history starts a year ago, and scoring's partition clocks still stand where the last
    # run left them (about now): kept, they would put the sweeper's watermark at the end of the
    # history from the first batch, so it would review every member up to now before that
    # member's later events arrive (all late then), and the transitions would depend on timing.
    # A new deployment starts with no clock; so does the bench.
    await execute(bench.dsn, "DELETE FROM partition_clock")
    ranges, rate = await publish_backlog(bench, records, ends)
    progress(f"phase 1: published at {rate:,.0f} records/s")
    return Preloaded(run, members, events, event_ids, ranges, rate)
