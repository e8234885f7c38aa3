"""Phases 1 and 2: scoring drains the backlog (nothing may be lost), and the bare consume loop over the same records."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import asyncpg

from bench.baseline import run_baseline
from bench.ingest_throughput import progress
from bench.scoring.config import DRAIN_LIMIT_S, GROUP, IDLE_TIMEOUT_S, POLL_S, STALL_S
from bench.scoring.figures import BaselineFigures, ThroughputFigures
from bench.scoring.history import Preloaded
from bench.scoring.process import ScoringProcess, alive, mark, scrape_metrics
from bench.scoring.profiler import Profiler
from bench.scoring.stack import Bench, unpublished


async def measure_baseline(bench: Bench, loaded: Preloaded) -> BaselineFigures:
    progress("phase 2: bare aiokafka consume loop (commit per batch) over the same records…")
    result = await run_baseline(bench.settings.kafka, loaded.run, loaded.ranges, copy=False)
    progress(f"phase 2: {result.rate:,.0f} records/s")
    return BaselineFigures(result.records, result.seconds, result.rate)


@dataclass
class Drain:
    first_progress_at: float | None = None
    lag_at_first_progress: int | None = None
    lag_zero_at: float | None = None
    stalled: bool = False


async def watch_drain(bench: Bench, scoring: ScoringProcess, total: int) -> Drain:
    """From the spawn on: when the group first committed, and when its lag reached 0 (or stalled)."""
    drain = Drain()
    last: int | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        alive(scoring)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        now = time.monotonic()
        if drain.first_progress_at is None and lag < total:
            drain.first_progress_at, drain.lag_at_first_progress = mark(scoring.sampler), lag
        if lag == 0:
            drain.lag_zero_at = mark(scoring.sampler)
            return drain
        if lag != last:
            last, changed_at = lag, now
        if now - changed_at >= STALL_S or time.time() - scoring.spawned_at >= DRAIN_LIMIT_S:
            drain.stalled = True
            return drain
        if now - reported_at >= 5.0:
            done = total - lag
            progress(f"  {done:,}/{total:,} events committed ({done / (time.time() - scoring.spawned_at):,.0f}/s)")
            reported_at = now
        await asyncio.sleep(POLL_S)


@dataclass(frozen=True)
class Applied:
    members: int
    purchases: int
    in_inbox: int
    deferred: int
    transitions: int


async def applied(dsn: str, loaded: Preloaded) -> Applied:
    prefix = f"m_{loaded.run}_"
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, coalesce(sum(sales + refunds), 0) AS purchases FROM members "
            "WHERE starts_with(member_id, $1)",
            prefix,
        )
        assert row is not None
        in_inbox = await conn.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", loaded.event_ids)
        # The payload is stored as a JSON string inside jsonb (the pool's codec encodes the event's JSON
        # text once more), so ->> finds nothing: search the text instead.
        deferred = await conn.fetchval(
            "SELECT count(*) FROM deferred_events WHERE strpos(payload::text, $1) > 0", prefix
        )
        transitions = await conn.fetchval("SELECT count(*) FROM transitions WHERE starts_with(member_id, $1)", prefix)
    finally:
        await conn.close()
    return Applied(int(row["n"]), int(row["purchases"]), int(in_inbox), int(deferred), int(transitions))


async def wait_outbox_drained(bench: Bench, scoring: ScoringProcess) -> float | None:
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while await unpublished(bench.dsn):
        alive(scoring)
        if time.monotonic() > deadline:
            bench.warnings.append(f"scoring's outbox still had unpublished rows {IDLE_TIMEOUT_S:.0f} s after lag 0")
            return None
        await asyncio.sleep(POLL_S)
    return time.time()


async def measure_throughput(
    bench: Bench, loaded: Preloaded, scoring: ScoringProcess, profiler: Profiler | None
) -> ThroughputFigures:
    total = sum(end - start for start, end in loaded.ranges.values())
    drain_task = asyncio.create_task(watch_drain(bench, scoring, total), name="drain")
    try:
        ready_at = await scoring.ready
    except BaseException:
        drain_task.cancel()
        with contextlib.suppress(BaseException):
            await drain_task
        raise
    progress(f"scoring ready in {ready_at - scoring.spawned_at:.1f} s (pid {scoring.service.process.pid})")
    if profiler is not None:
        profiler.start(scoring.service.process.pid)
    drain = await drain_task
    if profiler is not None:
        profiler.stop()
    spawned = scoring.spawned_at
    if drain.lag_zero_at is not None:
        progress(f"phase 1: group lag 0 after {drain.lag_zero_at - spawned:.1f} s; checking state, draining outbox…")
    drained_at = await wait_outbox_drained(bench, scoring)
    state = await applied(bench.dsn, loaded)
    first, zero = drain.first_progress_at, drain.lag_zero_at
    steady_events = drain.lag_at_first_progress or 0
    steady_s = zero - first if first is not None and zero is not None and zero > first else None
    steady = scoring.sampler.window(first, zero) if first is not None and zero is not None else None
    whole = scoring.sampler.window(spawned, zero) if zero is not None else None
    running = scoring.sampler.window(ready_at, zero) if zero is not None else None
    lost = len(loaded.event_ids) - (state.in_inbox - state.deferred)
    if state.members != loaded.members:
        bench.warnings.append(f"phase 1: {state.members:,} member rows for {loaded.members:,} members")
    if state.purchases != loaded.purchases:
        bench.warnings.append(f"phase 1: {state.purchases:,} purchases in state for {loaded.purchases:,} published")
    return ThroughputFigures(
        run=loaded.run,
        members=loaded.members,
        events=len(loaded.event_ids),
        purchase_events=loaded.purchases,
        preload_rate=loaded.rate,
        startup_s=ready_at - spawned,
        first_progress_after_s=first - spawned if first is not None else None,
        lag_zero_after_s=zero - spawned if zero is not None else None,
        rate_with_startup=total / (zero - spawned) if zero is not None else None,
        steady_events=steady_events,
        steady_s=steady_s,
        rate_steady=steady_events / steady_s if steady_s else None,
        outbox_drained_after_s=drained_at - spawned if drained_at is not None else None,
        state_events=state.transitions,
        members_in_state=state.members,
        events_in_inbox=state.in_inbox,
        still_deferred=state.deferred,
        purchases_in_state=state.purchases,
        lost=lost,
        stalled=drain.stalled,
        cpu_s_per_1000_events=1000 * steady.cpu_s / steady_events if steady is not None and steady_events else None,
        cpu_s_spawn_to_lag_zero=whole.cpu_s if whole is not None else None,
        process=running,
        steady_process=steady,
        consumer_metrics=await scrape_metrics(scoring),
        profile=profiler.summary() if profiler is not None else None,
    )
