"""Phase 3: Postgres round trips per batch, in-process, as campaigns, members and batch size grow.

For each (campaigns, stored members): one transaction as the campaigns role empties campaigns'
tables, loads the reference data, COPYs the members, ANALYZEs, stores the campaigns and refreshes
a CampaignHolder from them. Then, per batch size, batches of decoded triggers (state transitions
and sales of stored members, as in phase 1) go through what the consumer does per batch: a
savepoint, the inbox claim, ``campaigns_handler``, the outbox append, on a connection that counts
every statement call. The transaction is rolled back at the end: nothing stays.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.campaigns.catalog import basket_categories, catalog, load_reference
from bench.campaigns.config import SEED
from bench.campaigns.counting import CountingConnection, FakeRecord, SinglePool
from bench.campaigns.definitions import bench_campaigns, subset
from bench.campaigns.figures import BatchCount, RoundTripFigures
from bench.campaigns.members import Profile, preseed, profiles
from bench.campaigns.stack import Bench
from bench.campaigns.triggers import NEXT, STATE_SHARE, Baskets
from bench.ingest_throughput import new_run_id, progress
from services.campaigns.adapters import campaign_repository
from services.campaigns.entrypoints.settings import CampaignsSettings
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.handlers import campaigns_handler
from shared.contracts import MemberEvent
from shared.contracts.topics import DEFAULT_PARTITIONS, topic_for_contract
from shared.kafka.records import Decoded, UnitOfWork
from shared.postgres import inbox, outbox
from shared.postgres.pool import create_pool
from shared.postgres.service_schema import empty_tables

REPEATS = 3  # batches per batch size; the history they leave grows from one to the next


def decoded_batch(run: str, size: int, members: list[Profile], baskets: Baskets, at: datetime) -> list[Decoded[Any]]:
    """``size`` triggers a second apart from ``at``: state transitions and sales of stored members."""
    rng = baskets.rng
    out: list[Decoded[Any]] = []
    for n in range(size):
        member, when = rng.choice(members), at + timedelta(seconds=n)
        event: MemberEvent
        if rng.random() < STATE_SHARE:
            previous = rng.choice(list(NEXT))
            event = member.state(when, rng.choice(NEXT[previous]), previous, int(when.timestamp()))
        else:
            event = baskets.sale(member, when)
        record = FakeRecord(
            topic=topic_for_contract(type(event)).name,
            partition=hash(member.member_id) % DEFAULT_PARTITIONS,
            offset=n,
            timestamp=int(when.timestamp() * 1000),
            key=member.member_id.encode(),
            value=b"",
        )
        out.append(Decoded(f"{run}-rt-{int(when.timestamp())}", event, record, event.occurred_at))
    return out


async def measure_roundtrips(bench: Bench) -> list[RoundTripFigures]:
    settings = CampaignsSettings()
    pairs = {k: tuple(v) for k, v in settings.cross_sell_pairs.items()}
    products = catalog(pairs)
    every = bench_campaigns()
    pool = await create_pool(bench.dsn, min_size=1, max_size=1)
    out: list[RoundTripFigures] = []
    try:
        async with pool.acquire() as conn:
            for count in bench.args.roundtrip_campaigns:
                for stored in bench.args.roundtrip_members:
                    tx = conn.transaction()
                    await tx.start()
                    try:
                        progress(f"phase 3: {count} campaigns, {stored:,} stored members…")
                        run = new_run_id()
                        rng = random.Random(SEED)  # noqa: S311 - a reproducible workload, not a secret
                        members = profiles(f"m_{run}_", stored, rng)
                        await empty_tables(conn, "campaigns")
                        await load_reference(conn, products)
                        await preseed(conn, members, datetime.now(UTC) - timedelta(days=120))
                        await conn.execute("ANALYZE members")
                        for campaign in subset(every, count):
                            await campaign_repository.upsert(conn, campaign, "bench")
                        holder = CampaignHolder(SinglePool(conn))
                        await holder.refresh()
                        handler = campaigns_handler(holder, settings.deciding())
                        baskets = Baskets(run, products, basket_categories(pairs), rng)
                        at = datetime.now(UTC) - timedelta(days=1)
                        for size in bench.args.roundtrip_batches:
                            counts, seconds = Counter[str](), defaultdict[str, float](float)
                            batches = []
                            for _ in range(REPEATS):
                                batch = decoded_batch(run, size, members, baskets, at)
                                at += timedelta(seconds=size)
                                batches.append(await one_batch(conn, handler, batch, counts, seconds))
                            out.append(figures(count, stored, size, batches, counts, seconds))
                            progress(f"  batch {size}: {[b.statements for b in batches]} statements per batch")
                    finally:
                        await tx.rollback()
    finally:
        await pool.close()
    return out


async def one_batch(
    conn: Any, handler: Any, batch: list[Decoded[Any]], counts: Counter[str], seconds: defaultdict[str, float]
) -> BatchCount:
    """What the consumer does with one batch, inside a savepoint, on a counting connection."""
    counting: Any = CountingConnection(conn)
    before = await conn.fetchval("SELECT count(*) FROM decisions")
    started = time.perf_counter()
    async with conn.transaction():
        fresh = await inbox.claim(counting, [d.event_id for d in batch], [d.record.topic for d in batch])
        claimed = counting.total
        uow = UnitOfWork(counting)
        await handler(uow, [d for d in batch if d.event_id in fresh])
        handler_calls = counting.total - claimed
        await outbox.append(counting, uow.outgoing)
    ms = 1000 * (time.perf_counter() - started)
    decided = await conn.fetchval("SELECT count(*) FROM decisions") - before
    counts.update(counting.calls)
    for name, spent in counting.seconds.items():
        seconds[name] += spent
    db_ms = 1000 * sum(counting.seconds.values())
    return BatchCount(counting.total, handler_calls, len(batch), decided, len(uow.outgoing), ms, db_ms)


def figures(
    campaigns: int, members: int, size: int, batches: list[BatchCount], counts: Counter[str], seconds: dict[str, float]
) -> RoundTripFigures:
    decisions = sum(b.candidates_decided for b in batches)
    statements = [b.statements for b in batches]
    return RoundTripFigures(
        campaigns=campaigns,
        members=members,
        batch_size=size,
        batches=batches,
        statements_min=min(statements),
        statements_max=max(statements),
        statements_per_decision=sum(statements) / decisions if decisions else None,
        by_statement=dict(counts.most_common()),
        by_statement_ms={k: round(1000 * v, 1) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])},
    )
