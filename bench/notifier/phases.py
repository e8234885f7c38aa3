"""The phases: a backlog sent as fast as the notifier can (then paced latency), the rate limit held, the sink's ceiling.

Each notifier process is a real one (bench.service_bench.process), sampled from /proc from its spawn on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import asyncpg

from bench.ingest_throughput import new_run_id, progress
from bench.notifier.config import SPEC, TOKEN, UNLIMITED_RATE
from bench.notifier.sink import Seen, call_count, delivered, provider_env, seen
from bench.notifier.workload import add_contacts, member_ids, offer_record
from bench.service_bench.backlog import publish_backlog
from bench.service_bench.figures import cuts, delays_ms
from bench.service_bench.latency import pacing
from bench.service_bench.process import ServiceProcess, alive, mark, running_service, wait_idle
from bench.service_bench.profiler import Profiler
from bench.service_bench.stack import ServiceBench, ServiceSpec, empty_service_tables, move_group_to_end
from tools.provider_sinks import SinkProcess


@dataclass(kw_only=True)
class Bench(ServiceBench):
    spec: ClassVar[ServiceSpec] = SPEC
    sink: SinkProcess


def notifier_env(bench: Bench, rate: float, burst: float) -> dict[str, str]:
    """Only the providers and their limit are the bench's; every tuning setting is the service's default."""
    return {"MP_HTTP_MANAGEMENT_TOKEN": TOKEN, **provider_env(bench.sink.url, rate, burst)}


async def reset(bench: Bench) -> dict[Any, int]:
    """notifier's tables emptied (as its integration tests do) and group "notifier" moved to the end of its inputs."""
    await empty_service_tables(bench.dsn, "notifier")
    return await move_group_to_end(bench)


@dataclass
class Backlog:
    run: str
    keys: list[str]
    preload_rate: float
    sink_since: int
    calls_since: int


async def preload(bench: Bench, count: int, phase: str) -> Backlog:
    """Tables emptied, group moved, ``count`` contacts stored and their offers published before notifier starts."""
    run = new_run_id()
    members = member_ids(f"m_{run}_", count)
    before = await reset(bench)
    await add_contacts(bench.dsn, members)
    pairs = [offer_record(m) for m in members]
    progress(f"{phase}: run {run}: {count:,} contacts stored; publishing {count:,} offers…")
    _, rate = await publish_backlog(bench, [record for _, record in pairs], before)
    progress(f"{phase}: published {count:,} offers at {rate:,.0f} records/s")
    return Backlog(run, [key for key, _ in pairs], rate, await delivered(bench.sink), await call_count(bench.sink))


@dataclass
class Delivery:
    spawn_to_first_s: float | None = None
    spawn_to_all_s: float | None = None
    first_seen_at: float | None = None  # time.time() of the sampler's mark
    count_at_first_seen: int = 0
    all_seen_at: float | None = None
    stalled: bool = False


async def watch_sink(bench: Bench, process: ServiceProcess, loaded: Backlog, profiler: Profiler | None) -> Delivery:
    """From the spawn until the sink has every backlog delivery (or nothing new came for stall_s)."""
    total = len(loaded.keys)
    out = Delivery()
    last, changed_at, reported_at = -1, time.monotonic(), time.monotonic()
    while True:
        alive(process)
        count = await delivered(bench.sink) - loaded.sink_since
        now = time.monotonic()
        if out.first_seen_at is None and count > 0:
            out.first_seen_at, out.count_at_first_seen = mark(process.sampler), count
            out.spawn_to_first_s = out.first_seen_at - process.spawned_at
            if profiler is not None:
                profiler.start(process.pid)
        if count >= total:
            out.all_seen_at = mark(process.sampler)
            out.spawn_to_all_s = out.all_seen_at - process.spawned_at
            break
        if count != last:
            last, changed_at = count, now
        if now - changed_at >= bench.spec.stall_s or time.time() - process.spawned_at >= bench.spec.drain_limit_s:
            out.stalled = True
            break
        if now - reported_at >= 5.0:
            progress(
                f"  {count:,}/{total:,} at the sink ({count / (time.time() - process.spawned_at):,.0f}/s from spawn)"
            )
            reported_at = now
        await asyncio.sleep(0.2)
    if profiler is not None:
        profiler.stop()
    return out


async def ledger(dsn: str, prefix: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM sends WHERE starts_with(member_id, $1) GROUP BY status", prefix
        )
    finally:
        await conn.close()
    return {r["status"]: int(r["n"]) for r in rows}


async def all_queued(dsn: str, prefix: str, total: int, timeout_s: float = 120.0) -> float | None:
    """The monotonic time at which the ledger first held a row for each of the run's ``total`` offers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sum((await ledger(dsn, prefix)).values()) >= total:
            return time.monotonic()
        await asyncio.sleep(0.1)
    return None


async def ledger_settled(bench: Bench, process: ServiceProcess, prefix: str, total: int) -> dict[str, int]:
    """The run's ledger rows by status once all are 'sent' (outcomes are written after the call), or at the timeout."""
    deadline = time.monotonic() + 60.0
    while True:
        alive(process)
        statuses = await ledger(bench.dsn, prefix)
        if statuses.get("sent", 0) >= total or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.5)


def integrity(keys: list[str], got: Seen, statuses: dict[str, int]) -> dict[str, Any]:
    """Nothing lost, nothing doubled: one delivery per key, one accepted call per key, every ledger row 'sent'."""
    missing = len(set(keys) - set(got.arrivals))
    accepted = got.calls.get("accepted", 0)
    return {
        "offers": len(keys),
        "deliveries": len(got.arrivals),
        "distinct_keys": len(set(got.arrivals)),
        "missing": missing,
        "calls": got.calls,
        "duplicate_calls": got.duplicates,
        "ledger": statuses,
        # lost: no delivery, or a ledger row that is not 'sent'; doubled: a key called (and accepted) twice.
        "lost": missing + (len(keys) - statuses.get("sent", 0)) + got.duplicates + max(0, accepted - len(keys)),
    }


def rate_of(times: list[float]) -> float | None:
    """Sends per second between the first and the last arrival: (n − 1) intervals over that span."""
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else None


def worst_excess(times: list[float], rate: float) -> tuple[float, float]:
    """max over stretches [t_i, t_j] of (sends in it − rate × its length): a token bucket keeps it ≤ burst.

    With f(i) = rate·t_i − i, the excess of [i, j] is (j + 1 − rate·t_j) + f(i): one pass with f's running max.
    Returns (excess, the stretch's length in s).
    """
    best, best_len = 0.0, 0.0
    top, top_at = float("-inf"), 0.0
    for j, t in enumerate(times):
        f = rate * t - j
        if f > top:
            top, top_at = f, t
        excess = (j + 1 - rate * t) + top
        if excess > best:
            best, best_len = excess, t - top_at
    return best, best_len


async def throughput(bench: Bench, profiler: Profiler | None, latency_profiler: Profiler | None) -> dict[str, Any]:
    """Phase 1 (and 3, on the same process): the backlog at an unreachable limit, then paced offers to it idle."""
    count = bench.args.members
    loaded = await preload(bench, count, "phase 1")
    env = notifier_env(bench, UNLIMITED_RATE, UNLIMITED_RATE / 10)
    out: dict[str, Any] = {}
    replicas = bench.args.replicas
    async with contextlib.AsyncExitStack() as stack:
        processes = [
            await stack.enter_async_context(running_service(bench, env, replica=r, replicas=replicas))
            for r in range(replicas)
        ]
        process = processes[0]
        pids = ", ".join(str(p.pid) for p in processes)
        progress(f"phase 1: {replicas} notifier process(es) spawned (pid {pids}); sms limit {UNLIMITED_RATE:,.0f}/s")
        watched = await watch_sink(bench, process, loaded, profiler)
        ready_at = await process.ready
        statuses = await ledger_settled(bench, process, f"m_{loaded.run}_", count)
        got = await seen(bench.sink, loaded.keys, loaded.sink_since, loaded.calls_since)
        arrivals = sorted(got.arrivals.values())
        windows = (
            [p.sampler.window(watched.first_seen_at, watched.all_seen_at) for p in processes]
            if watched.first_seen_at is not None and watched.all_seen_at is not None
            else []
        )
        sent_window = windows[0] if windows else None
        cpu_s = sum(w.cpu_s for w in windows if w is not None) if windows else None
        sends_in_window = count - watched.count_at_first_seen
        out["throughput"] = {
            "run": loaded.run,
            "preload_rate": loaded.preload_rate,
            "rate_limit": UNLIMITED_RATE,
            "replicas": replicas,
            "startup_s": ready_at - process.spawned_at,
            "spawn_to_first_send_s": watched.spawn_to_first_s,
            "spawn_to_all_sent_s": watched.spawn_to_all_s,
            "first_to_last_s": arrivals[-1] - arrivals[0] if len(arrivals) > 1 else None,
            "sends_per_s": rate_of(arrivals),
            "sends_per_s_from_spawn": count / watched.spawn_to_all_s if watched.spawn_to_all_s else None,
            "stalled": watched.stalled,
            "cpu_s_per_1000_sends": (1000 * cpu_s / sends_in_window if cpu_s is not None and sends_in_window else None),
            "process": asdict(sent_window) if sent_window is not None else None,
            "profile": profiler.summary() if profiler is not None else None,
            **integrity(loaded.keys, got, statuses),
        }
        t = out["throughput"]
        progress(f"phase 1: {t['sends_per_s'] or 0:,.0f} sends/s at the sink; lost or doubled {t['lost']}")
        if bench.runs("latency"):
            out["latency"] = await latency(bench, process, latency_profiler)
    return out


async def latency(bench: Bench, process: ServiceProcess, profiler: Profiler | None) -> dict[str, Any]:
    """Phase 3: offers published at --latency-rate to the idle notifier; offer published → provider called."""
    rate, seconds = bench.args.latency_rate, bench.args.latency_seconds
    run = new_run_id()
    members = member_ids(f"m_{run}_", int(rate * seconds))
    await add_contacts(bench.dsn, members)
    progress("phase 3: waiting until notifier is idle (lag 0, outbox published)…")
    await wait_idle(bench, process)
    pairs = [offer_record(m) for m in members]
    since, calls_since = await delivered(bench.sink), await call_count(bench.sink)
    async with pacing(bench, process, profiler, []) as paced:
        progress(f"phase 3: {len(pairs):,} offers at {rate:,.0f}/s (run {run})…")
        sent = {key: at + paced.wall_offset for key, at in (await paced.send(pairs, rate)).items()}
        deadline, last, changed_at = time.monotonic() + bench.spec.idle_timeout_s, -1, time.monotonic()
        while (count := await delivered(bench.sink) - since) < len(sent):
            alive(process)
            if count != last:
                last, changed_at = count, time.monotonic()
            if time.monotonic() - changed_at > bench.spec.quiet_s or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        paced.end()
    statuses = await ledger_settled(bench, process, f"m_{run}_", len(sent))
    got = await seen(bench.sink, list(sent), since, calls_since)
    return {
        "run": run,
        "offered_rate": rate,
        "achieved_rate": paced.achieved_rate,
        "seconds": seconds,
        **cuts(delays_ms(sent, got.arrivals)),
        "process": asdict(paced.window) if paced.window is not None else None,
        "profile": profiler.summary() if profiler is not None else None,
        **integrity(list(sent), got, statuses),
    }


async def ratelimit(bench: Bench) -> dict[str, Any]:
    """Phase 2: a backlog against --limit-rate (burst --limit-burst): the achieved rate and the worst excess."""
    rate, burst = bench.args.limit_rate, bench.args.limit_burst or bench.args.limit_rate / 10
    loaded = await preload(bench, bench.args.limit_offers, "phase 2")
    replicas = bench.args.replicas
    env = notifier_env(bench, rate, burst)
    async with contextlib.AsyncExitStack() as stack:
        processes = [
            await stack.enter_async_context(running_service(bench, env, replica=r, replicas=replicas))
            for r in range(replicas)
        ]
        process = processes[0]
        progress(f"phase 2: {replicas} notifier process(es); sms limit {rate:,.0f}/s, burst {burst:,.0f}")
        queued = asyncio.create_task(all_queued(bench.dsn, f"m_{loaded.run}_", len(loaded.keys)))
        watched = await watch_sink(bench, process, loaded, None)
        statuses = await ledger_settled(bench, process, f"m_{loaded.run}_", len(loaded.keys))
        queued_at = await queued
    got = await seen(bench.sink, loaded.keys, loaded.sink_since, loaded.calls_since)
    times = got.monotonic
    after_first_s = [t for t in times if times and t >= times[0] + 1.0]
    # The limiter's own accuracy: from when every offer was in the ledger (the intake done with the
    # backlog) and from the first second on. Before that the intake competes for the same core, and
    # a shortfall then is the process's throughput, not the limiter's.
    once_queued = [t for t in after_first_s if queued_at is not None and t >= queued_at]
    achieved = rate_of(after_first_s)
    achieved_queued = rate_of(once_queued)
    excess, stretch = worst_excess(times, rate)
    # The busiest 1 s window anywhere (the first second included).
    busiest, j = 0, 0
    for i, t in enumerate(times):
        while j < len(times) and times[j] < t + 1.0:
            j += 1
        busiest = max(busiest, j - i)
    return {
        "run": loaded.run,
        "rate_limit": rate,
        "burst": burst,
        "replicas": replicas,
        "spawn_to_all_sent_s": watched.spawn_to_all_s,
        "stalled": watched.stalled,
        "sends_after_first_second": len(after_first_s),
        "achieved_rate": achieved,
        "ratio_to_limit": achieved / rate if achieved else None,
        "intake_done_after_s": (queued_at - times[0]) if queued_at is not None and times else None,
        "sends_once_queued": len(once_queued),
        "achieved_rate_once_queued": achieved_queued,
        "ratio_to_limit_once_queued": achieved_queued / rate if achieved_queued else None,
        "worst_excess": excess,
        "worst_excess_stretch_s": stretch,
        "busiest_second": busiest,
        # Where a shortfall comes from: the longest silences at the sink, in ms.
        "longest_gaps_ms": sorted((round((b - a) * 1000, 1) for a, b in itertools.pairwise(times)), reverse=True)[:8],
        **integrity(loaded.keys, got, statuses),
    }
