"""Ingest benchmark: sustained throughput, overhead over bare Kafka, latency under load, memory.

``python -m bench.ingest_throughput [--events N] [--members M] [--memory-scaling]`` against the
local stack (``make up``). Every figure comes from this one run; nothing is asserted except that
no event was lost (exit 1 if one was, 2 if the run could not start).

Method
------
1. Sustained throughput. N records of ``tools.upstream.realistic_mix`` (a fresh run id; chat
   JSON, WeCom, WeChat XML, POS receipts, web orders, CSV exports) are produced to
   ``raw.chat.v1`` / ``raw.purchase.v1`` BEFORE ingest starts, so ingest meets a full backlog.
   The "ingest" consumer group must have no members and no lag beforehand, so everything it
   reads is this run's. Ingest is then started as a real process (HTTP port + 3000). A separate
   consumer reads the five output topics from their end offsets and attributes each canonical
   event to the run by the ``source_event_id`` in its value (upstream ids embed the run id);
   dead letters are attributed by their original partition and offset. The bench waits until
   every record has an output (or the count has not moved for 10 s) and the group's lag on the
   raw topics is 0. Output rate = outputs / (last - first output's Kafka timestamp); input
   rate = N / (process spawned → lag first seen at 0, polled every 0.5 s), start-up included.
2. Baseline. Before ingest starts, a bare aiokafka loop copies the same offset range (fresh
   group, batches of ``max_batch_records``) unchanged to ``bench.scratch.v1`` with the
   services' producer settings (idempotent, acks=all), awaiting acks and committing per batch.
3. Latency. With ingest still running and idle, records are produced at a paced 2,000/s for
   20 s (``--latency-rate``, ``--latency-seconds``; new run id) by an idempotent acks=all
   producer; the send time of each event ref is kept in the bench, and latency = time the bench
   consumed its output - send time. Above the sustained rate of phase 1 this is queueing delay.
4. Memory. The ingest process's VmRSS and CPU time are read from /proc every second (plus at
   phase boundaries). ``--memory-scaling`` repeats phase 1 with 10x the members on a freshly
   started ingest, to compare RSS as the member count grows.

Kafka, Postgres, ingest and the bench share this machine's cores: the figures are for that
setup, which the report states.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import shlex
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import TopicPartition

from bench.baseline import BaselineResult, run_baseline
from bench.kafka_ops import (
    Ranges,
    produce_all,
    produce_paced,
    produce_timed,
    ranges_between,
    upstream_producer,
)
from bench.outputs import OutputWatcher
from bench.report import LatencyResult, MachineFacts, Report, ThroughputResult, machine_facts, render, write_json
from bench.rss import ProcessSampler
from services.ingest.entrypoints.topology import CONSUMES, PUBLISHES
from shared.settings import DEFAULT_HTTP_PORTS, Settings
from shared.stack.readiness import kafka_version, postgres_version
from tools.kafka_probe import KafkaProbe
from tools.services import RunningService, service_pids, spawn_service, stop_services, wait_ready
from tools.upstream import realistic_mix

INGEST_GROUP = "ingest"
PORT_OFFSET = 3000
READY_TIMEOUT_S = 90.0
QUIET_S = 10.0  # no new output for this long, with lag 0: the run is over
STALL_S = 120.0  # no progress at all for this long: give up and count what is missing as lost
POLL_S = 0.5
RESULTS_DIR = Path(__file__).resolve().parent / "results"


class BenchAborted(Exception):
    """The benchmark cannot run on this stack as it is (another ingest running, a backlog)."""


@dataclass
class Bench:
    settings: Settings
    probe: KafkaProbe
    raw: list[TopicPartition]
    outputs: list[TopicPartition]
    events: int
    latency_rate: float
    latency_seconds: float
    log_dir: Path
    warnings: list[str] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers


@dataclass(frozen=True)
class Preloaded:
    run: str
    refs: list[str]
    ranges: Ranges
    rate: float


@dataclass
class IngestProcess:
    service: RunningService
    sampler: ProcessSampler
    spawned_at: float
    ready_at: float


@dataclass(frozen=True)
class Drain:
    lag_zero_at: float | None  # time.time() when the group's lag was first seen at 0
    ended_at: float
    stalled: bool


def progress(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def new_run_id() -> str:
    return f"b{uuid.uuid4().hex[:10]}"


# -- preflight ---------------------------------------------------------------------------------


async def preflight(bench: Bench) -> None:
    if pids := service_pids("services.ingest"):
        raise BenchAborted(f"an ingest process is running (pid {pids}); it shares consumer group 'ingest'. Stop it.")
    if members := await bench.probe.group_members(INGEST_GROUP):
        raise BenchAborted(f"consumer group {INGEST_GROUP!r} has {members} active member(s) elsewhere. Stop them.")
    if lag := await bench.probe.group_lag(INGEST_GROUP, bench.raw):
        raise BenchAborted(
            f"consumer group {INGEST_GROUP!r} has {lag} unread raw records from before; ingest would process "
            "them during the measurement. Drain them first (run `python -m services.ingest` until idle)."
        )


# -- the phases --------------------------------------------------------------------------------


async def preload(bench: Bench, run: str, members: int) -> Preloaded:
    progress(f"run {run}: producing {bench.events:,} records for {members:,} members to the raw topics…")
    before = await bench.probe.end_offsets(bench.raw)
    refs, seconds = await produce_timed(
        bench.bootstrap, lambda producer: produce_all(producer, realistic_mix(run, bench.events, members))
    )
    ranges = ranges_between(before, await bench.probe.end_offsets(bench.raw))
    landed = sum(end - start for start, end in ranges.values())
    if landed != len(refs):
        bench.warnings.append(f"{landed - len(refs)} records from elsewhere landed on the raw topics during pre-load")
    return Preloaded(run, refs, ranges, len(refs) / seconds)


async def measure_baseline(bench: Bench, loaded: Preloaded) -> BaselineResult:
    progress("baseline: bare consume → produce over the same records…")
    result = await run_baseline(bench.settings.kafka, loaded.run, loaded.ranges)
    progress(f"baseline: {result.rate:,.0f} records/s")
    return result


@contextlib.asynccontextmanager
async def running_ingest(bench: Bench) -> AsyncIterator[IngestProcess]:
    """Ingest as a real process, sampled from its first second until it has stopped."""
    spawned_at = time.time()
    service = spawn_service("ingest", bench.log_dir, None, DEFAULT_HTTP_PORTS["ingest"] + PORT_OFFSET)
    sampler = ProcessSampler(service.process.pid)
    sampler.start()
    try:
        await asyncio.to_thread(wait_ready, [service], READY_TIMEOUT_S)
        sampler.mark()
        ingest = IngestProcess(service, sampler, spawned_at, time.time())
        progress(f"ingest ready in {ingest.ready_at - spawned_at:.1f} s (pid {service.process.pid})")
        yield ingest
        if (members := await bench.probe.group_members(INGEST_GROUP)) != 1:
            bench.warnings.append(f"group {INGEST_GROUP!r} had {members} members at the end: figures are suspect")
    finally:
        await sampler.stop()
        codes = await asyncio.to_thread(stop_services, [service])
        if codes.get("ingest"):
            bench.warnings.append(f"ingest exited with {codes['ingest']}; see {service.log_path}")


async def wait_drained(bench: Bench, watcher: OutputWatcher, refs: Collection[str], ranges: Ranges) -> Drain:
    """Until every ref has an output (or none came for QUIET_S) and the group's lag is 0; or a stall."""
    lag_zero_at: float | None = None
    last: tuple[int, int] | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        lag = await bench.probe.group_lag(INGEST_GROUP, bench.raw)
        done = len(watcher.received) + sum(watcher.dead_in(ranges).values())
        now = time.monotonic()
        if lag == 0 and lag_zero_at is None:
            lag_zero_at = time.time()
        if (lag, done) != last:
            last, changed_at = (lag, done), now
        if lag == 0 and (done >= len(refs) or now - changed_at >= QUIET_S):
            return Drain(lag_zero_at, time.time(), stalled=False)
        if now - changed_at >= STALL_S:
            return Drain(lag_zero_at, time.time(), stalled=True)
        if now - reported_at >= 5.0:
            progress(f"  {done:,}/{len(refs):,} outputs, group lag {lag:,}")
            reported_at = now
        await asyncio.sleep(POLL_S)


def summarise_throughput(
    members: int, loaded: Preloaded, watcher: OutputWatcher, drain: Drain, ingest: IngestProcess
) -> ThroughputResult:
    outputs = watcher.matched(loaded.refs)
    dead = watcher.dead_in(loaded.ranges)
    first, last = watcher.first_ts_ms, watcher.last_ts_ms
    span = (last - first) / 1000 if first is not None and last is not None and last > first else None
    input_span = drain.lag_zero_at - ingest.spawned_at if drain.lag_zero_at is not None else None
    return ThroughputResult(
        members=members,
        events=len(loaded.refs),
        preload_rate=loaded.rate,
        startup_s=ingest.ready_at - ingest.spawned_at,
        outputs=outputs,
        duplicates=watcher.duplicates,
        dead_letters=dict(dead),
        lost=len(loaded.refs) - outputs - sum(dead.values()),
        first_output_after_s=first / 1000 - ingest.spawned_at if first is not None else None,
        output_span_s=span,
        output_rate=outputs / span if span else None,
        input_span_s=input_span,
        input_rate=len(loaded.refs) / input_span if input_span else None,
        stalled=drain.stalled,
        process=ingest.sampler.window(ingest.ready_at, drain.ended_at),
    )


async def measure_throughput(
    bench: Bench, members: int, *, with_latency: bool
) -> tuple[ThroughputResult, BaselineResult | None, LatencyResult | None]:
    """Phase 1 (and 2 and 3 on the first pass): pre-load, baseline, then ingest from a cold start."""
    loaded = await preload(bench, new_run_id(), members)
    progress(f"pre-loaded at {loaded.rate:,.0f} records/s")
    baseline = await measure_baseline(bench, loaded) if with_latency else None
    watcher = OutputWatcher(bench.bootstrap, loaded.run)
    await watcher.start(bench.outputs)
    try:
        async with running_ingest(bench) as ingest:
            drain = await wait_drained(bench, watcher, loaded.refs, loaded.ranges)
            ingest.sampler.mark()
            throughput = summarise_throughput(members, loaded, watcher, drain, ingest)
            progress(f"phase 1: {throughput.outputs:,} outputs at {throughput.output_rate or 0:,.0f} events/s")
            latency = await measure_latency(bench, ingest, members) if with_latency else None
    finally:
        await watcher.stop()
    return throughput, baseline, latency


async def measure_latency(bench: Bench, ingest: IngestProcess, members: int) -> LatencyResult:
    """Phase 3: paced input to the running ingest; latency = output consumed - input sent, per event."""
    run = new_run_id()
    records = list(realistic_mix(run, int(bench.latency_rate * bench.latency_seconds), members))
    watcher = OutputWatcher(bench.bootstrap, run, fetch_max_wait_ms=20)
    await watcher.start(bench.outputs)
    producer = upstream_producer(bench.bootstrap)
    await producer.start()
    try:
        before = await bench.probe.end_offsets(bench.raw)
        progress(f"phase 3: {len(records):,} records at {bench.latency_rate:,.0f}/s (run {run})…")
        ingest.sampler.mark()
        started_at, started = time.time(), time.perf_counter()
        sent = await produce_paced(producer, records, bench.latency_rate)
        sending_s = time.perf_counter() - started
        ranges = ranges_between(before, await bench.probe.end_offsets(bench.raw))
        drain = await wait_drained(bench, watcher, list(sent), ranges)
        ingest.sampler.mark()
    finally:
        await producer.stop()
        await watcher.stop()
    dead = watcher.dead_in(ranges)
    latencies = sorted(1000 * (watcher.received[ref] - at) for ref, at in sent.items() if ref in watcher.received)
    return LatencyResult(
        offered_rate=bench.latency_rate,
        seconds=bench.latency_seconds,
        sent=len(sent),
        achieved_rate=len(sent) / sending_s,
        received=len(latencies),
        dead_letters=dict(dead),
        lost=len(sent) - len(latencies) - sum(dead.values()),
        **percentiles(latencies),
        process=ingest.sampler.window(started_at, drain.ended_at),
    )


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return dict.fromkeys(("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": cuts[49], "p95_ms": cuts[94], "p99_ms": cuts[98], "max_ms": max(values)}


def log_problems(path: Path) -> dict[str, int]:
    """Warnings and errors ingest logged during the run, counted by message and error."""
    problems: Counter[str] = Counter()
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
                    problems[f"{entry.get('event')}: {str(entry.get('error', ''))[:100]}".rstrip(": ")] += 1
    return dict(problems.most_common())


# -- the run -----------------------------------------------------------------------------------


async def stack_machine_facts(settings: Settings, service: str = "ingest") -> MachineFacts:
    """The machine and the stack the figures are of; Postgres is asked as ``service``'s role."""
    return machine_facts(
        settings.kafka.bootstrap_servers,
        await kafka_version(settings.kafka.bootstrap_servers),
        await postgres_version(settings.pg.dsn_for(service)),
        f"{settings.pg.host}:{settings.pg.port}",
    )


async def run(args: argparse.Namespace, command: str, stamp: str) -> Report:
    settings = Settings()
    async with KafkaProbe(settings.kafka.bootstrap_servers) as probe:
        bench = Bench(
            settings=settings,
            probe=probe,
            raw=await probe.partitions([spec.name for spec in CONSUMES]),
            outputs=await probe.partitions([spec.name for spec in PUBLISHES]),
            events=args.events,
            latency_rate=args.latency_rate,
            latency_seconds=args.latency_seconds,
            log_dir=RESULTS_DIR / f"logs-{stamp}",
        )
        await preflight(bench)
        machine = await stack_machine_facts(settings)
        throughput, baseline, latency = await measure_throughput(bench, args.members, with_latency=True)
        scaling = None
        if args.memory_scaling:
            scaling, _, _ = await measure_throughput(bench, args.members * 10, with_latency=False)
    assert baseline is not None
    return Report(
        command=command,
        started_at=stamp,
        machine=machine,
        throughput=throughput,
        baseline=baseline,
        latency=latency,
        scaling=scaling,
        ingest_log=str(bench.log_dir / "ingest.log"),
        ingest_log_problems=log_problems(bench.log_dir / "ingest.log"),
        warnings=bench.warnings,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="records pre-loaded for phase 1 (100,000)")
    parser.add_argument("--members", type=int, default=10_000, help="distinct members in the mix (10,000)")
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="events/s offered in phase 3 (2,000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 3 offers them (20)")
    parser.add_argument(
        "--memory-scaling", action="store_true", help="repeat phase 1 with 10x the members on a fresh ingest"
    )
    args = parser.parse_args(argv)
    if min(args.events, args.members, args.latency_rate, args.latency_seconds) <= 0:
        parser.error("--events, --members, --latency-rate and --latency-seconds must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    command = shlex.join(["uv", "run", "python", "-m", "bench.ingest_throughput", *argv])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        report = asyncio.run(run(args, command, stamp))
    except BenchAborted as exc:
        print(f"ingest benchmark not run: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    print(f"results: {write_json(report, RESULTS_DIR, stamp)}")
    if report.lost:
        print(f"FAILED: the pipeline lost {report.lost} event(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
