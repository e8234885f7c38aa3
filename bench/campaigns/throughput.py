"""Phase 1: campaigns drains the backlog (every admitted occurrence decided once), beside a bare consume loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg

from bench.campaigns.backlog import Preloaded
from bench.campaigns.definitions import bench_campaigns
from bench.campaigns.figures import ThroughputFigures
from bench.campaigns.process import campaigns_metrics
from bench.campaigns.stack import Bench
from bench.ingest_throughput import progress
from bench.kafka_ops import Ranges, ranges_between
from bench.service_bench.drain import drain_figures, drain_from_spawn, wait_outbox_drained
from bench.service_bench.process import ServiceProcess
from bench.service_bench.profiler import Profiler
from bench.service_bench.stack import fetchval


@dataclass(frozen=True)
class Decided:
    in_table: int
    keys: set[str]
    outcomes: dict[str, int]


async def decided(dsn: str, prefix: str) -> Decided:
    conn = await asyncpg.connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM decisions")
        rows = await conn.fetch("SELECT decision_key, outcome FROM decisions WHERE starts_with(member_id, $1)", prefix)
    finally:
        await conn.close()
    outcomes: dict[str, int] = {}
    for r in rows:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return Decided(int(total), {r["decision_key"] for r in rows}, dict(sorted(outcomes.items())))


async def settled(bench: Bench, process: ServiceProcess, loaded: Preloaded) -> tuple[float | None, Decided, Ranges]:
    """Outbox empty, and no offer issued meanwhile: the timers may still release queued offers after lag 0."""
    deadline = time.monotonic() + bench.spec.idle_timeout_s
    while True:
        state = await decided(bench.dsn, loaded.prefix)
        drained_at = await wait_outbox_drained(bench, process)
        published = ranges_between(loaded.offers_before, await bench.probe.end_offsets(bench.offers))
        issued = await fetchval(bench.dsn, ISSUED, loaded.prefix)
        if issued == state.outcomes.get("issued", 0) or time.monotonic() > deadline:
            bench.note(published)
            return drained_at, state, published
        await asyncio.sleep(1.0)


ISSUED = "SELECT count(*) FROM decisions WHERE starts_with(member_id, $1) AND outcome = 'issued'"
INTACT = """SELECT (SELECT count(*) FROM campaigns) = $1
                   AND (SELECT count(*) FROM campaigns WHERE campaign_id = ANY($2::text[])) = $1
                   AND (SELECT count(*) FROM members WHERE starts_with(member_id, $3)) = $4"""


async def intact(bench: Bench, loaded: Preloaded) -> bool:
    """Whether campaigns' tables still hold the bench's campaigns and members, exactly: nobody reset them meanwhile."""
    ids = [c.id for c in bench_campaigns()]
    ok = bool(await fetchval(bench.dsn, INTACT, len(ids), ids, loaded.prefix, loaded.members))
    if not ok:
        bench.warnings.append(
            "INVALID: campaigns' tables changed under phase 1 (another process reset or used them): its figures are not"
            " the service's"
        )
    return ok


async def measure_throughput(
    bench: Bench, loaded: Preloaded, process: ServiceProcess, profiler: Profiler | None
) -> ThroughputFigures:
    """Phase 1: py-spy (if asked for) records for ``--profile-seconds`` from the first committed batch."""
    total = sum(end - start for start, end in loaded.ranges.values())
    first_batch_s = bench.args.profile_seconds
    ready_at, drain = await drain_from_spawn(bench, process, total, "triggers", profiler, first_batch_s)
    spawned = process.spawned_at
    if drain.lag_zero_at is not None:
        progress(f"phase 1: group lag 0 after {drain.lag_zero_at - spawned:.1f} s; draining the outbox…")
    drained_at, state, published = await settled(bench, process, loaded)
    tables_intact = await intact(bench, loaded)
    return ThroughputFigures(
        run=loaded.run,
        members=loaded.members,
        campaigns=50,
        triggers=loaded.triggers,
        state_triggers=loaded.state_triggers,
        sale_triggers=loaded.triggers - loaded.state_triggers,
        preload_rate=loaded.rate,
        **drain_figures(process, ready_at, drain, total, drained_at, "triggers"),
        decisions_in_table=state.in_table,
        decisions_of_run=len(state.keys),
        outcomes=state.outcomes,
        expected=len(loaded.expected),
        lost=len(loaded.expected - state.keys),
        unexpected=len(state.keys - loaded.expected),
        offers_issued=state.outcomes.get("issued", 0),
        offers_published=sum(end - start for start, end in published.values()),
        tables_intact=tables_intact,
        consumer_metrics=await campaigns_metrics(process),
        profile=profiler.summary() if profiler is not None else None,
    )
