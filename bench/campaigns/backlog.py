"""Phase 1's set-up: campaigns reset, reference data and members stored, the trigger backlog published."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from aiokafka import TopicPartition

from bench.campaigns.catalog import basket_categories, catalog, load_reference
from bench.campaigns.config import HISTORY_DAYS, SEED
from bench.campaigns.definitions import bench_campaigns
from bench.campaigns.expected import expected_keys
from bench.campaigns.members import preseed, profiles
from bench.campaigns.stack import Bench, reset
from bench.campaigns.triggers import Baskets, backlog
from bench.ingest_throughput import new_run_id, progress
from bench.kafka_ops import Ranges
from bench.service_bench.backlog import publish_backlog
from services.campaigns.domain.catalog import next_tier_map
from services.campaigns.domain.triggers import Versioned
from services.campaigns.entrypoints.settings import CampaignsSettings
from shared.contracts import MemberStateV1


@dataclass(frozen=True)
class Preloaded:
    run: str
    members: int
    triggers: int
    state_triggers: int
    expected: set[str]
    ranges: Ranges  # campaigns' inputs: what the backlog occupies
    offers_before: dict[TopicPartition, int]
    rate: float

    @property
    def prefix(self) -> str:
        return f"m_{self.run}_"


async def preload(bench: Bench) -> Preloaded:
    run = new_run_id()
    rng = random.Random(SEED)  # noqa: S311 - a reproducible workload, not a secret
    settings = CampaignsSettings()
    pairs = {k: tuple(v) for k, v in settings.cross_sell_pairs.items()}
    products = catalog(pairs)
    members = profiles(f"m_{run}_", bench.args.members, rng)
    until = datetime.now(UTC) - timedelta(minutes=5)
    baskets = Baskets(run, products, basket_categories(pairs), rng)
    progress(f"phase 1: run {run}: generating {bench.args.events:,} triggers of {len(members):,} members…")
    triggers = backlog(run, members, bench.args.events, baskets, until, HISTORY_DAYS, rng)
    campaigns = [Versioned(c, 1) for c in bench_campaigns()]
    tiers = next_tier_map((p.sku, p.category, p.tier) for p in products)
    by_id = {m.member_id: m for m in members}
    expected = expected_keys(triggers, by_id, campaigns, tiers, pairs, ZoneInfo(settings.default_timezone))
    records = [t.record() for t in triggers]
    progress(f"phase 1: {len(expected):,} trigger occurrences in an audience; resetting campaigns' tables and group…")
    before = await reset(bench)
    conn = await asyncpg.connect(bench.dsn)
    try:
        async with conn.transaction():
            await load_reference(conn, products)
            await preseed(conn, members, until - timedelta(days=HISTORY_DAYS + 30))
    finally:
        await conn.close()
    offers_before = await bench.probe.end_offsets(bench.offers)
    ranges, rate = await publish_backlog(bench, records, before)
    bench.note(ranges)
    progress(f"phase 1: published {len(records):,} triggers at {rate:,.0f} records/s")
    states = sum(1 for t in triggers if isinstance(t.event, MemberStateV1))
    return Preloaded(run, len(members), len(records), states, expected, ranges, dict(offers_before), rate)
