"""Phase 1: campaigns drains the backlog (every admitted occurrence decided once), beside a bare consume loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncpg

from bench.baseline import run_baseline
from bench.campaigns.backlog import Preloaded
from bench.campaigns.config import DRAIN_LIMIT_S, GROUP, IDLE_TIMEOUT_S, POLL_S, STALL_S
from bench.campaigns.definitions import bench_campaigns
from bench.campaigns.figures import BaselineFigures, ThroughputFigures
from bench.campaigns.process import CampaignsProcess, alive, mark, scrape_metrics
from bench.campaigns.stack import Bench, fetchval, unpublished
from bench.ingest_throughput import progress
from bench.kafka_ops import Ranges, ranges_between
from bench.scoring.profiler import Profiler


async def measure_baseline(bench: Bench, loaded: Preloaded) -> BaselineFigures:
    progress("phase 1: bare aiokafka consume loop (commit per batch) over the same records…")
    result = await run_baseline(bench.settings.kafka, loaded.run, loaded.ranges, copy=False)
    progress(f"phase 1: bare loop {result.rate:,.0f} records/s")
    return BaselineFigures(result.records, result.seconds, result.rate)


@dataclass
class Drain:
    first_progress_at: float | None = None
    lag_at_first_progress: int | None = None
    lag_zero_at: float | None = None
    stalled: bool = False


async def watch_drain(bench: Bench, process: CampaignsProcess, total: int, profiler: Profiler | None) -> Drain:
    """From the spawn on: when the group first committed, and when its lag reached 0 (or stalled).

    With a profiler, py-spy records from the first committed batch for ``--profile-seconds``.
    """
    drain = Drain()
    last: int | None = None
    changed_at = reported_at = time.monotonic()
    profile_until: float | None = None
    try:
        while True:
            alive(process)
            lag = await bench.probe.group_lag(GROUP, bench.inputs)
            now = time.monotonic()
            if drain.first_progress_at is None and lag < total:
                drain.first_progress_at, drain.lag_at_first_progress = mark(process.sampler), lag
                if profiler is not None:
                    profiler.start(process.service.process.pid)
                    profile_until = now + bench.args.profile_seconds
            if profile_until is not None and now >= profile_until and profiler is not None:
                profiler.stop()
                profile_until = None
            if lag == 0:
                drain.lag_zero_at = mark(process.sampler)
                return drain
            if lag != last:
                last, changed_at = lag, now
            if now - changed_at >= STALL_S or time.time() - process.spawned_at >= DRAIN_LIMIT_S:
                drain.stalled = True
                return drain
            if now - reported_at >= 5.0:
                done = total - lag
                progress(
                    f"  {done:,}/{total:,} triggers committed ({done / (time.time() - process.spawned_at):,.0f}/s)"
                )
                reported_at = now
            await asyncio.sleep(POLL_S)
    finally:
        if profile_until is not None and profiler is not None:
            profiler.stop()


async def wait_outbox_drained(bench: Bench, process: CampaignsProcess) -> float | None:
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while await unpublished(bench.dsn):
        alive(process)
        if time.monotonic() > deadline:
            bench.warnings.append(f"campaigns' outbox still had unpublished rows {IDLE_TIMEOUT_S:.0f} s after lag 0")
            return None
        await asyncio.sleep(POLL_S)
    return time.time()


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


async def settled(bench: Bench, process: CampaignsProcess, loaded: Preloaded) -> tuple[float | None, Decided, Ranges]:
    """Outbox empty, and no offer issued meanwhile: the timers may still release queued offers after lag 0."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
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
    bench: Bench, loaded: Preloaded, process: CampaignsProcess, profiler: Profiler | None
) -> ThroughputFigures:
    total = sum(end - start for start, end in loaded.ranges.values())
    drain_task = asyncio.create_task(watch_drain(bench, process, total, profiler), name="drain")
    try:
        ready_at = await process.ready
    except BaseException:
        drain_task.cancel()
        with contextlib.suppress(BaseException):
            await drain_task
        raise
    progress(f"campaigns ready in {ready_at - process.spawned_at:.1f} s (pid {process.service.process.pid})")
    drain = await drain_task
    spawned = process.spawned_at
    if drain.lag_zero_at is not None:
        progress(f"phase 1: group lag 0 after {drain.lag_zero_at - spawned:.1f} s; draining the outbox…")
    drained_at, state, published = await settled(bench, process, loaded)
    tables_intact = await intact(bench, loaded)
    first, zero = drain.first_progress_at, drain.lag_zero_at
    steady_triggers = drain.lag_at_first_progress or 0
    steady_s = zero - first if first is not None and zero is not None and zero > first else None
    steady = process.sampler.window(first, zero) if first is not None and zero is not None else None
    running = process.sampler.window(ready_at, zero) if zero is not None else None
    return ThroughputFigures(
        run=loaded.run,
        members=loaded.members,
        campaigns=50,
        triggers=loaded.triggers,
        state_triggers=loaded.state_triggers,
        sale_triggers=loaded.triggers - loaded.state_triggers,
        preload_rate=loaded.rate,
        startup_s=ready_at - spawned,
        first_progress_after_s=first - spawned if first is not None else None,
        lag_zero_after_s=zero - spawned if zero is not None else None,
        rate_with_startup=total / (zero - spawned) if zero is not None else None,
        steady_triggers=steady_triggers,
        steady_s=steady_s,
        rate_steady=steady_triggers / steady_s if steady_s else None,
        outbox_drained_after_s=drained_at - spawned if drained_at is not None else None,
        decisions_in_table=state.in_table,
        decisions_of_run=len(state.keys),
        outcomes=state.outcomes,
        expected=len(loaded.expected),
        lost=len(loaded.expected - state.keys),
        unexpected=len(state.keys - loaded.expected),
        offers_issued=state.outcomes.get("issued", 0),
        offers_published=sum(end - start for start, end in published.values()),
        stalled=drain.stalled,
        tables_intact=tables_intact,
        cpu_s_per_1000_triggers=1000 * steady.cpu_s / steady_triggers
        if steady is not None and steady_triggers
        else None,
        process=running,
        steady_process=steady,
        consumer_metrics=await scrape_metrics(process),
        profile=profiler.summary() if profiler is not None else None,
    )
