"""Phases 1 and 2: scoring drains the backlog (nothing may be lost), and the bare consume loop over the same records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bench.ingest_throughput import progress
from bench.scoring.figures import ThroughputFigures
from bench.scoring.history import Preloaded
from bench.scoring.process import scoring_metrics
from bench.scoring.stack import Bench
from bench.service_bench.drain import drain_figures, drain_from_spawn, wait_outbox_drained
from bench.service_bench.process import ServiceProcess
from bench.service_bench.profiler import Profiler


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


async def measure_throughput(
    bench: Bench, loaded: Preloaded, processes: Sequence[ServiceProcess], profiler: Profiler | None
) -> ThroughputFigures:
    """Phase 1: py-spy (if asked for) records the first replica from readiness to lag 0."""
    scoring = processes[0]
    total = sum(end - start for start, end in loaded.ranges.values())
    ready_at, drain = await drain_from_spawn(bench, scoring, total, "events", profiler)
    spawned = scoring.spawned_at
    if drain.lag_zero_at is not None:
        progress(f"phase 1: group lag 0 after {drain.lag_zero_at - spawned:.1f} s; checking state, draining outbox…")
    drained_at = await wait_outbox_drained(bench, scoring)
    state = await applied(bench.dsn, loaded)
    zero = drain.lag_zero_at
    whole = scoring.sampler.window(spawned, zero) if zero is not None else None
    lost = len(loaded.event_ids) - (state.in_inbox - state.deferred)
    if state.members != loaded.members:
        bench.warnings.append(f"phase 1: {state.members:,} member rows for {loaded.members:,} members")
    if state.purchases != loaded.purchases:
        bench.warnings.append(f"phase 1: {state.purchases:,} purchases in state for {loaded.purchases:,} published")
    first, steady = drain.first_progress_at, drain.lag_zero_at
    windows = [p.sampler.window(first, steady) for p in processes] if first and steady else []
    steady_records = drain.lag_at_first_progress or 0
    all_cpu_s = sum(w.cpu_s for w in windows if w is not None) if windows else None
    return ThroughputFigures(
        run=loaded.run,
        members=loaded.members,
        events=len(loaded.event_ids),
        purchase_events=loaded.purchases,
        preload_rate=loaded.rate,
        **drain_figures(scoring, ready_at, drain, total, drained_at, "events"),
        state_events=state.transitions,
        members_in_state=state.members,
        events_in_inbox=state.in_inbox,
        still_deferred=state.deferred,
        purchases_in_state=state.purchases,
        lost=lost,
        cpu_s_spawn_to_lag_zero=whole.cpu_s if whole is not None else None,
        consumer_metrics=await scoring_metrics(processes),
        profile=profiler.summary() if profiler is not None else None,
        replicas=len(processes),
        all_replicas_cpu_s_per_1000_events=1000 * all_cpu_s / steady_records if all_cpu_s and steady_records else None,
    )
