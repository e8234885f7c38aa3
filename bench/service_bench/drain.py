"""The backlog phase: the service drains what was published before it started, beside a bare consume loop.

Lag is polled from the spawn on; the service commits only after a batch's transaction, so lag 0
means every record was handled. What follows from the two moments watched (first committed batch,
lag 0) is the same for every service: start-up, both rates, the steady CPU window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from bench.baseline import run_baseline
from bench.ingest_throughput import progress
from bench.kafka_ops import Ranges
from bench.service_bench.figures import BaselineFigures
from bench.service_bench.process import ServiceProcess, alive, mark
from bench.service_bench.profiler import Profiler
from bench.service_bench.stack import ServiceBench, unpublished


async def measure_baseline(bench: ServiceBench, run: str, ranges: Ranges, phase: str, done: str) -> BaselineFigures:
    """The bare loop over the backlog's records; ``done`` starts the line that reports its rate."""
    progress(f"{phase}: bare aiokafka consume loop (commit per batch) over the same records…")
    result = await run_baseline(bench.settings.kafka, run, ranges, copy=False)
    progress(f"{phase}: {done}{result.rate:,.0f} records/s")
    return BaselineFigures(result.records, result.seconds, result.rate)


@dataclass
class Drain:
    first_progress_at: float | None = None
    lag_at_first_progress: int | None = None
    lag_zero_at: float | None = None
    stalled: bool = False


async def watch_drain(
    bench: ServiceBench, process: ServiceProcess, total: int, unit: str, profiler: Profiler | None, profile_s: float
) -> Drain:
    """From the spawn on: when the group first committed, and when its lag reached 0 (or stalled).

    With a profiler, py-spy records from the first committed batch for ``profile_s``.
    """
    spec = bench.spec
    drain = Drain()
    last: int | None = None
    changed_at = reported_at = time.monotonic()
    profile_until: float | None = None
    try:
        while True:
            alive(process)
            lag = await bench.probe.group_lag(spec.group, bench.inputs)
            now = time.monotonic()
            if drain.first_progress_at is None and lag < total:
                drain.first_progress_at, drain.lag_at_first_progress = mark(process.sampler), lag
                if profiler is not None:
                    profiler.start(process.pid)
                    profile_until = now + profile_s
            if profile_until is not None and now >= profile_until and profiler is not None:
                profiler.stop()
                profile_until = None
            if lag == 0:
                drain.lag_zero_at = mark(process.sampler)
                return drain
            if lag != last:
                last, changed_at = lag, now
            if now - changed_at >= spec.stall_s or time.time() - process.spawned_at >= spec.drain_limit_s:
                drain.stalled = True
                return drain
            if now - reported_at >= 5.0:
                done = total - lag
                progress(f"  {done:,}/{total:,} {unit} committed ({done / (time.time() - process.spawned_at):,.0f}/s)")
                reported_at = now
            await asyncio.sleep(spec.poll_s)
    finally:
        if profile_until is not None and profiler is not None:
            profiler.stop()


async def drain_from_spawn(
    bench: ServiceBench,
    process: ServiceProcess,
    total: int,
    unit: str,
    profiler: Profiler | None,
    first_batch_s: float | None = None,
) -> tuple[float, Drain]:
    """When the service was ready, and how it drained ``total`` records.

    With a profiler, py-spy records from readiness to lag 0, or, given ``first_batch_s``, for that
    long from the first committed batch.
    """
    from_first_batch = profiler if first_batch_s is not None else None
    task = asyncio.create_task(
        watch_drain(bench, process, total, unit, from_first_batch, first_batch_s or 0.0), name="drain"
    )
    try:
        ready_at = await process.ready
    except BaseException:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    progress(f"{process.name} ready in {ready_at - process.spawned_at:.1f} s (pid {process.pid})")
    from_ready = profiler if first_batch_s is None else None
    if from_ready is not None:
        from_ready.start(process.pid)
    drain = await task
    if from_ready is not None:
        from_ready.stop()
    return ready_at, drain


def drain_figures(
    process: ServiceProcess, ready_at: float, drain: Drain, total: int, drained_at: float | None, unit: str
) -> dict[str, Any]:
    """The drain's figures, from the spawn on, under the record's keys (``steady_<unit>``, ``cpu_s_per_1000_<unit>``).

    Steady is first committed batch → lag 0; ``process`` is the window ready → lag 0.
    """
    spawned, first, zero = process.spawned_at, drain.first_progress_at, drain.lag_zero_at
    steady_records = drain.lag_at_first_progress or 0  # records still unread at the first committed batch
    steady_s = zero - first if first is not None and zero is not None and zero > first else None
    steady = process.sampler.window(first, zero) if first is not None and zero is not None else None
    cpu_s_per_1000 = 1000 * steady.cpu_s / steady_records if steady is not None and steady_records else None
    return {
        "startup_s": ready_at - spawned,
        "first_progress_after_s": first - spawned if first is not None else None,
        "lag_zero_after_s": zero - spawned if zero is not None else None,
        "rate_with_startup": total / (zero - spawned) if zero is not None else None,
        f"steady_{unit}": steady_records,
        "steady_s": steady_s,
        "rate_steady": steady_records / steady_s if steady_s else None,
        "outbox_drained_after_s": drained_at - spawned if drained_at is not None else None,
        "stalled": drain.stalled,
        f"cpu_s_per_1000_{unit}": cpu_s_per_1000,  # steady window
        "process": process.sampler.window(ready_at, zero) if zero is not None else None,
        "steady_process": steady,
    }


async def wait_outbox_drained(bench: ServiceBench, process: ServiceProcess) -> float | None:
    """When the service's outbox had no unpublished row left (``time.time()``), or None after the idle timeout."""
    timeout_s = bench.spec.idle_timeout_s
    deadline = time.monotonic() + timeout_s
    while await unpublished(bench.dsn):
        alive(process)
        if time.monotonic() > deadline:
            bench.warnings.append(
                f"{bench.spec.possessive} outbox still had unpublished rows {timeout_s:.0f} s after lag 0"
            )
            return None
        await asyncio.sleep(bench.spec.poll_s)
    return time.time()
