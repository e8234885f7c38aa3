"""Scoring benchmark: sustained throughput, overhead over a bare consumer, latency, a million-member sweep.

``python -m bench.scoring_throughput [--events N] [--latency-rate R] [--latency-seconds S]
[--sweep-members M] [--skip PHASE ...] [--keep] [--profile]`` against the local stack
(``make up``). Nothing is asserted except that no event was lost (exit 1 if one was, 2 if the
run could not start). The figures are printed as a Markdown table, each with the command that
reproduces it, and merged into ``bench/results/scoring.json``: a phase skipped keeps the figures
of the run that last measured it (with that run's command), so phases can be run one at a time.

Run it on a bench or development stack only. It moves scoring's consumer group ``scoring`` to
the end of the four input topics before it publishes (records nobody had read there are skipped,
as the scoring integration tests' reset does), and its scoring process sweeps whichever stored
members fall due as its events move the watermark. It truncates nothing: every member it
creates has an id made from a fresh run id, and those rows are deleted at the end.

Method
------
1. Sustained throughput (``throughput``). ``tools.member_history`` generates a year of canonical
   events ending now for enough members (about 40 events each) to reach ``--events``; they are
   published, in event-time order and keyed by member, to member.chat/community/purchase.v1
   BEFORE scoring starts, so scoring meets a full backlog. Scoring is then started as a real
   process (HTTP port + 3100, ``MP_SCORING_LIVE_CLOCK=false``). The group's lag on the four
   inputs is polled every 0.25 s from the spawn on; scoring commits offsets only after the
   batch's Postgres transaction, so lag 0 means every event was applied (or deferred) and
   committed. Two rates: N / (spawn → lag 0), start-up included, and the records still unread at
   the first committed batch / (first committed batch → lag 0). Then "nothing lost" is checked
   in Postgres: every event id is in scoring's inbox, no event of the run is still deferred, every
   member has a row, and the members' sale + refund counts add up to the purchase events. The
   process's RSS and CPU time are sampled from /proc (CPU seconds per 1,000 events are over the
   steady window). ``--profile`` records the process with py-spy during phases 1 and 3 (when
   py-spy is on PATH or in the venv) and summarises where its samples fall.
2. Baseline (``baseline``, needs phase 1). Before scoring starts, a bare aiokafka loop consumes
   the same offset ranges (a fresh group, manual assignment, batches of ``max_batch_records``)
   and commits per batch, with no processing: the Kafka work of scoring alone.
3. Latency (``latency``). With scoring running and idle (lag 0, outbox published), events are
   produced at a paced ``--latency-rate`` for ``--latency-seconds`` by an idempotent acks=all
   producer; each is the FIRST event of a brand-new member (a sale, a chat message or a join, in
   turn), so each yields exactly one transition on member.state.v1. The bench consumes
   member.state.v1 from its end offsets (taken before producing) and matches on member_id;
   latency = state event consumed - input sent. That is an upper bound of "published → state
   committed": it also includes the outbox relay's poll and publish and the bench's fetch. For
   comparison, the bench also consumes the input topics themselves: one bare Kafka hop
   (published → consumed) over the same events, in the same run.
4. Sweep (``sweep``; no scoring process may run). As the scoring role, ``--sweep-members``
   synthetic member rows (``m_<run>_sweep_<n>``: active participants with two purchases and a
   last interaction 70 days before W) are COPYed into ``members``, with ``next_review_at`` = W - 1
   minute for every hundredth (1% due) and W + 30 days for the rest; then ANALYZE. W is fixed far
   in the past, so no other stored member is due by it (checked first). ``Sweeper.sweep(until=W)``
   is then timed in-process on a real asyncpg pool (default policy, ``--sweep-batch`` members per
   batch): it claims, reviews (each due member falls silent and becomes at_risk), saves, records
   the transitions and queues their state events in the outbox. Afterwards this run's members,
   transitions and (unpublished) outbox rows are deleted and ``members`` is vacuumed, whatever
   ``--keep`` says.

At the end (unless ``--keep``) phases 1 and 3's rows are deleted: members, transitions, sales,
community memberships, deferred events and outbox rows of their member ids, and the
community_activity counters they touched are restored. What stays: the events on the input
topics and the state events on the compacted member.state.v1 (Kafka keeps them), scoring's inbox
ids (its duplicate memory, purged after 420 days) and the partition clocks, moved to now.

Kafka, Postgres, scoring and the bench share this machine's cores: the figures are for that
setup, which the report states.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from bench.baseline import run_baseline
from bench.ingest_throughput import log_problems, new_run_id, percentiles, progress
from bench.kafka_ops import (
    KafkaProbe,
    Ranges,
    fast_producer,
    produce_kafka_records,
    produce_paced_records,
    ranges_between,
    upstream_producer,
)
from bench.outputs import OutputWatcher
from bench.report import machine_facts
from bench.rss import ProcessSampler, ProcessWindow
from services.scoring.adapters.community_repository import ACTIVITY_COLUMNS
from services.scoring.adapters.member_repository import COLUMNS
from services.scoring.entrypoints.topology import CONSUMES
from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.sweeper import Sweeper, SweepSettings
from shared.contracts import (
    ChatKind,
    CommunityAction,
    KafkaRecord,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
)
from shared.contracts.topics import MEMBER_STATE, SCORING_DLQ
from shared.postgres.pool import create_pool
from shared.settings import DEFAULT_HTTP_PORTS, Settings
from shared.stack.readiness import kafka_version, postgres_version
from tools.member_history import HistorySpec, as_record, member_history
from tools.services import RunningService, spawn_service, stop_services, wait_ready

PHASES = ("throughput", "baseline", "latency", "sweep")
GROUP = "scoring"
DOWNSTREAM_GROUP = "campaigns"
PORT_OFFSET = 3100
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own scoring process
READY_TIMEOUT_S = 90.0
POLL_S = 0.25
QUIET_S = 10.0  # phase 3: no new state event for this long: the run is over
STALL_S = 120.0  # no progress at all for this long: give up and count what is missing as lost
DRAIN_LIMIT_S = 420.0  # phase 1 gives up after this long in any case (keeps a run inside a 10-minute lock)
IDLE_TIMEOUT_S = 180.0
HISTORY_DAYS = 365
HISTORY_SEED = 7
EVENTS_PER_MEMBER = 40.0  # what member_history averages over a year (40.5 at seed 7)
# W of the sweep: far before anything the stack's tests and demos store, so only this run's rows are due.
SWEEP_UNTIL = datetime(2021, 6, 1, tzinfo=UTC)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULTS_PATH = RESULTS_DIR / "scoring.json"
FIT_RESULTS_PATH = RESULTS_DIR / "scoring_fit.json"
# The issue's targets: reported against, never asserted.
TARGET_EVENTS_PER_S = 20_000.0
TARGET_P99_MS = 250.0
TARGET_SWEEP_S = 5.0
TARGET_FIT_S = 30.0


class BenchAborted(Exception):
    """The benchmark cannot run on this stack as it is (another scoring running)."""


class ScoringFailed(Exception):
    """The scoring process died or could not start during a phase."""


# -- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThroughputFigures:
    run: str
    members: int
    events: int
    purchase_events: int
    preload_rate: float  # records/s produced by the bench (generation excluded)
    startup_s: float | None  # spawn → /readyz answers
    first_progress_after_s: float | None  # spawn → first committed batch seen (lag below N)
    lag_zero_after_s: float | None  # spawn → group lag 0 on the four inputs
    rate_with_startup: float | None  # N / (spawn → lag 0)
    steady_events: int  # records still unread at the first committed batch
    steady_s: float | None  # first committed batch → lag 0
    rate_steady: float | None
    outbox_drained_after_s: float | None  # spawn → every state event of the run published
    state_events: int  # transitions recorded for the run's members
    members_in_state: int
    events_in_inbox: int
    still_deferred: int
    purchases_in_state: int
    lost: int
    stalled: bool
    cpu_s_per_1000_events: float | None  # steady window
    cpu_s_spawn_to_lag_zero: float | None
    process: ProcessWindow | None  # ready → lag 0
    steady_process: ProcessWindow | None  # first committed batch → lag 0
    consumer_metrics: dict[str, float] = field(default_factory=dict)  # from scoring's /metrics at lag 0
    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class BaselineFigures:
    records: int
    seconds: float
    rate: float


@dataclass(frozen=True)
class LatencyFigures:
    run: str
    offered_rate: float
    seconds: float
    sent: int
    achieved_rate: float
    received: int
    dead_letters: dict[str, int]
    lost: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    bare_hop_received: int
    bare_p50_ms: float | None
    bare_p95_ms: float | None
    bare_p99_ms: float | None
    bare_max_ms: float | None
    process: ProcessWindow | None
    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class SweepFigures:
    run: str
    members_inserted: int
    insert_s: float
    analyze_s: float
    until: str
    due: int  # members with next_review_at <= W before the sweep (all of them this run's)
    swept: int
    seconds: float
    members_per_s: float
    transitions: int
    outbox_rows: int
    due_after: int
    batch_size: int
    cleanup_s: float


@dataclass
class Bench:
    settings: Settings
    probe: KafkaProbe
    inputs: list[TopicPartition]
    args: argparse.Namespace
    stamp: str
    warnings: list[str] = field(default_factory=list)
    # Member id prefixes of the rows phases 1 and 3 created, deleted at the end unless --keep.
    prefixes: list[str] = field(default_factory=list)
    communities: set[str] = field(default_factory=set)
    activity_before: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def log_dir(self) -> Path:
        return RESULTS_DIR / f"logs-scoring-{self.stamp}"

    @property
    def dsn(self) -> str:
        return self.settings.pg.dsn_for("scoring")

    def runs(self, phase: str) -> bool:
        return phase not in self.args.skip


@dataclass
class ScoringProcess:
    service: RunningService
    sampler: ProcessSampler
    spawned_at: float
    ready: asyncio.Task[float]  # → time.time() when /readyz first answered


# -- the stack ---------------------------------------------------------------------------------


def scoring_pids() -> list[int]:
    """Pids of running ``python -m services.scoring`` processes on this host."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if b"services.scoring" in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids


async def preflight(bench: Bench) -> None:
    if pids := scoring_pids():
        raise BenchAborted(f"a scoring process is running (pid {pids}); it shares group {GROUP!r}. Stop it.")
    if members := await bench.probe.group_members(GROUP):
        raise BenchAborted(f"consumer group {GROUP!r} has {members} active member(s) elsewhere. Stop them.")


async def move_group_to(bench: Bench, offsets: dict[TopicPartition, int], group: str = GROUP) -> None:
    """Commit ``offsets`` for a consumer group (scoring's by default), as the integration tests' reset does."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bench.bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def move_group_to_end(bench: Bench) -> dict[TopicPartition, int]:
    """Move scoring's group to the current end of its inputs; warn about what it had not read."""
    skipped = await bench.probe.group_lag(GROUP, bench.inputs)
    ends = await bench.probe.end_offsets(bench.inputs)
    await move_group_to(bench, ends)
    if skipped:
        bench.warnings.append(f"moved group {GROUP!r} past {skipped:,} input records it had not read")
    return ends


async def fetchval(dsn: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def snapshot_activity(bench: Bench) -> None:
    conn = await asyncpg.connect(bench.dsn)
    try:
        columns = ", ".join(ACTIVITY_COLUMNS)
        rows = await conn.fetch(f"SELECT community_id, {columns} FROM community_activity")  # noqa: S608
    finally:
        await conn.close()
    bench.activity_before = {row["community_id"]: tuple(row[c] for c in ACTIVITY_COLUMNS) for row in rows}


def scoring_env() -> dict[str, str]:
    # A history in event time: only events move time, never the wall clock.
    return {"MP_SCORING_LIVE_CLOCK": "false", "MP_HTTP_MANAGEMENT_TOKEN": TOKEN}


@contextlib.asynccontextmanager
async def running_scoring(bench: Bench) -> AsyncIterator[ScoringProcess]:
    """Scoring as a real process, sampled from its spawn until it has stopped; readiness awaited in the background."""
    spawned_at = time.time()
    service = spawn_service("scoring", bench.log_dir, scoring_env(), DEFAULT_HTTP_PORTS["scoring"] + PORT_OFFSET)
    sampler = ProcessSampler(service.process.pid)
    sampler.start()

    async def ready() -> float:
        try:
            await asyncio.to_thread(wait_ready, [service], READY_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            raise ScoringFailed(str(exc)) from exc
        return time.time()

    scoring = ScoringProcess(service, sampler, spawned_at, asyncio.create_task(ready(), name="scoring-ready"))
    try:
        yield scoring
        if (members := await bench.probe.group_members(GROUP)) != 1:
            bench.warnings.append(f"group {GROUP!r} had {members} members at the end: figures are suspect")
    finally:
        if not scoring.ready.done():
            scoring.ready.cancel()
        with contextlib.suppress(BaseException):
            await scoring.ready
        await sampler.stop()
        codes = await asyncio.to_thread(stop_services, [service])
        if codes.get("scoring"):
            bench.warnings.append(f"scoring exited with {codes['scoring']}; see {service.log_path}")


def alive(scoring: ScoringProcess) -> None:
    if scoring.service.process.poll() is not None:
        tail = scoring.service.log_path.read_text(errors="replace")[-3000:]
        raise ScoringFailed(f"scoring exited with {scoring.service.process.returncode}:\n{tail}")


def mark(sampler: ProcessSampler) -> float:
    """Sample now; the sample's own time, so a window ending (or starting) here includes it."""
    sampler.mark()
    return sampler.samples[-1].at if sampler.samples else time.time()


async def unpublished(dsn: str) -> int:
    return int(await fetchval(dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def wait_idle(bench: Bench, scoring: ScoringProcess) -> None:
    """Until the group has no lag and the outbox is published, twice in a row a second apart."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    calm = 0
    while calm < 2:
        alive(scoring)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        pending = await unpublished(bench.dsn)
        calm = calm + 1 if lag == 0 and pending == 0 else 0
        if time.monotonic() > deadline:
            bench.warnings.append(f"scoring not idle after {IDLE_TIMEOUT_S:.0f} s (lag {lag}, outbox {pending})")
            return
        await asyncio.sleep(1.0)


# -- phase 1 and 2: sustained throughput and the bare consume loop ----------------------------------


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
    before = await move_group_to_end(bench)
    producer = fast_producer(bench.bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        await produce_kafka_records(producer, records)
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    ranges = ranges_between(before, await bench.probe.end_offsets(bench.inputs))
    landed = sum(end - start for start, end in ranges.values())
    if landed != len(records):
        bench.warnings.append(f"{landed - len(records)} records from elsewhere landed on the inputs during pre-load")
    progress(f"phase 1: published at {len(records) / seconds:,.0f} records/s")
    return Preloaded(run, members, events, event_ids, ranges, len(records) / seconds)


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


SCRAPED = {
    "memberpulse_consumer_batch_records": "batch_records",
    "memberpulse_batch_duration_seconds": "batch_seconds",
    "memberpulse_scoring_sweep_batch_duration_seconds": "sweep_batch_seconds",
}


async def scrape_metrics(scoring: ScoringProcess) -> dict[str, float]:
    """Batches and their mean size and duration, sweeps, retries and rebalances, from scoring's /metrics."""
    try:
        async with httpx.AsyncClient(base_url=scoring.service.base_url, timeout=5.0) as client:
            text = (await client.get("/metrics")).text
    except httpx.HTTPError:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service", "scoring") != "scoring":
                continue
            name = sample.name
            for prefix, short in SCRAPED.items():
                if name in (f"{prefix}_count", f"{prefix}_sum"):
                    found[f"{short}_{name.rsplit('_', 1)[1]}"] = sample.value
            if name in (
                "memberpulse_scoring_swept_members_total",
                "memberpulse_consumer_retries_total",
                "memberpulse_consumer_rebalances_total",
                "memberpulse_scoring_transitions_total",
            ):
                key = name.removeprefix("memberpulse_").removeprefix("scoring_")
                found[key] = found.get(key, 0.0) + sample.value
    for short in SCRAPED.values():
        if found.get(f"{short}_count"):
            found[f"{short}_mean"] = found[f"{short}_sum"] / found[f"{short}_count"]
    return found


# -- profiling (optional) ------------------------------------------------------------------------


class Profiler:
    """py-spy ``record`` of the scoring process (raw collapsed stacks, idle samples kept), summarised."""

    IDLE_LEAVES = ("select (selectors.py", "epoll", "_run_once (asyncio/base_events.py")

    def __init__(self, executable: str, output: Path) -> None:
        self.executable = executable
        self.output = output
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def find(cls, output: Path) -> Profiler | None:
        venv_bin = Path(sys.executable).parent / "py-spy"
        found = shutil.which("py-spy") or (str(venv_bin) if venv_bin.exists() else None)
        return cls(found, output) if found else None

    def start(self, pid: int) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        command = [self.executable, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--idle"]
        command += ["--nonblocking", "--output", str(self.output)]
        self._process = subprocess.Popen(  # noqa: S603 - our own py-spy, our own child
            command, stdout=subprocess.DEVNULL, stderr=(self.output.with_suffix(".log")).open("wb")
        )

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def summary(self, top: int = 25) -> dict[str, Any] | None:
        """Samples by leaf function (self) and by any function on the stack (inclusive), idle apart."""
        if not self.output.exists():
            return None
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = idle = 0
        for line in self.output.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_frame_name(frame) for frame in stack.split(";")]
            total += count
            if any(leaf in stack.rsplit(";", 1)[-1] for leaf in self.IDLE_LEAVES):
                idle += count
                continue
            own[frames[-1]] += count
            for name in set(frames):
                inclusive[name] += count
        busy = total - idle
        return {
            "file": str(self.output),
            "samples": total,
            "idle_share": idle / total if total else None,
            "self_share_of_busy": {k: v / busy for k, v in own.most_common(top)} if busy else {},
            "inclusive_share_of_busy": {k: v / busy for k, v in inclusive.most_common(top * 2)} if busy else {},
        }


def _frame_name(frame: str) -> str:
    """``handle (services/scoring/x.py:12)`` → ``handle (services/scoring/x.py)``: lines merged."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if where else name


# -- phase 3: latency ------------------------------------------------------------------------------


def first_event(run: str, n: int, at: datetime) -> tuple[str, MemberEvent]:
    """The first event of a brand-new member: a sale, a chat message or a join, in turn."""
    ref = f"{run}_lat_{n:06d}"
    member, community, source_id = f"m_{ref}", f"bench-{run}", f"{ref}-first"
    if n % 3 == 0:
        line = PurchaseLine(sku="sku-milk-1l", category="dairy", qty=1, unit_price_minor=1_990, amount_minor=1_990)
        return ref, MemberPurchaseV1(
            member_id=member,
            occurred_at=at,
            purchase_id=source_id,
            kind=PurchaseKind.SALE,
            channel=PurchaseChannel.POS,
            store_id=f"store-{n % 20:03d}",
            currency="CNY",
            lines=(line,),
            total_minor=1_990,
            source="pos_receipt",
            source_event_id=source_id,
        )
    if n % 3 == 1:
        return ref, MemberChatV1(
            member_id=member,
            occurred_at=at,
            community_id=community,
            kind=ChatKind.MESSAGE,
            text="早上好！",
            source="chat_json",
            source_event_id=source_id,
        )
    return ref, MemberCommunityV1(
        member_id=member,
        occurred_at=at,
        community_id=community,
        action=CommunityAction.JOIN,
        source="wecom_archive",
        source_event_id=source_id,
    )


async def measure_latency(bench: Bench, scoring: ScoringProcess, profiler: Profiler | None) -> LatencyFigures:
    run = new_run_id()
    rate, seconds = bench.args.latency_rate, bench.args.latency_seconds
    bench.prefixes.append(f"m_{run}_")
    bench.communities.add(f"bench-{run}")
    base = datetime.now(UTC)
    records: list[tuple[str, KafkaRecord]] = []
    for n in range(int(rate * seconds)):
        ref, event = first_event(run, n, base + timedelta(seconds=n / rate))
        records.append((ref, as_record(event)))
    progress("phase 3: waiting until scoring is idle (lag 0, outbox published)…")
    await wait_idle(bench, scoring)
    state = OutputWatcher(
        bench.bootstrap, run, fetch_max_wait_ms=20, ref_field="member_id", dlq_topics=[SCORING_DLQ.name]
    )
    # The same events read straight off the input topics: one bare Kafka hop, for comparison.
    bare = OutputWatcher(bench.bootstrap, run, fetch_max_wait_ms=20, ref_field="member_id", dlq_topics=())
    await state.start(await bench.probe.partitions([MEMBER_STATE.name, SCORING_DLQ.name]))
    await bare.start(bench.inputs)
    producer = upstream_producer(bench.bootstrap)
    await producer.start()
    try:
        before = await bench.probe.end_offsets(bench.inputs)
        progress(f"phase 3: {len(records):,} new members' first events at {rate:,.0f}/s (run {run})…")
        if profiler is not None:
            profiler.start(scoring.service.process.pid)
        started_at = mark(scoring.sampler)
        began = time.perf_counter()
        sent = await produce_paced_records(producer, records, rate)
        sending_s = time.perf_counter() - began
        ranges = ranges_between(before, await bench.probe.end_offsets(bench.inputs))
        await wait_received(bench, scoring, state, sent, ranges)
        ended_at = mark(scoring.sampler)
    finally:
        if profiler is not None:
            profiler.stop()
        await producer.stop()
        await state.stop()
        await bare.stop()
    dead = state.dead_in(ranges)
    latencies = sorted(1000 * (state.received[ref] - at) for ref, at in sent.items() if ref in state.received)
    hops = sorted(1000 * (bare.received[ref] - at) for ref, at in sent.items() if ref in bare.received)
    cuts, bare_cuts = percentiles(latencies), percentiles(hops)
    return LatencyFigures(
        run=run,
        offered_rate=rate,
        seconds=seconds,
        sent=len(sent),
        achieved_rate=len(sent) / sending_s,
        received=len(latencies),
        dead_letters=dict(dead),
        lost=len(sent) - len(latencies) - sum(dead.values()),
        p50_ms=cuts["p50_ms"],
        p95_ms=cuts["p95_ms"],
        p99_ms=cuts["p99_ms"],
        max_ms=cuts["max_ms"],
        bare_hop_received=len(hops),
        bare_p50_ms=bare_cuts["p50_ms"],
        bare_p95_ms=bare_cuts["p95_ms"],
        bare_p99_ms=bare_cuts["p99_ms"],
        bare_max_ms=bare_cuts["max_ms"],
        process=scoring.sampler.window(started_at, ended_at),
        profile=profiler.summary() if profiler is not None else None,
    )


async def wait_received(
    bench: Bench, scoring: ScoringProcess, watcher: OutputWatcher, sent: dict[str, float], ranges: Ranges
) -> None:
    """Until every sent ref has its state event (or none came for QUIET_S) and the group's lag is 0."""
    last: tuple[int, int] | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        alive(scoring)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        done = watcher.matched(sent) + sum(watcher.dead_in(ranges).values())
        now = time.monotonic()
        if (lag, done) != last:
            last, changed_at = (lag, done), now
        if lag == 0 and (done >= len(sent) or now - changed_at >= QUIET_S):
            return
        if now - changed_at >= STALL_S:
            return
        if now - reported_at >= 5.0:
            progress(f"  {done:,}/{len(sent):,} state events, group lag {lag:,}")
            reported_at = now
        await asyncio.sleep(POLL_S)


# -- phase 4: the sweep ------------------------------------------------------------------------------


def sweep_rows(prefix: str, count: int, until: datetime) -> Iterator[tuple[Any, ...]]:
    """Synthetic member rows (COLUMNS order): active participants, last heard from 70 days before ``until``."""

    def days(n: float) -> datetime:
        return until - timedelta(days=n)

    template: dict[str, Any] = {
        "member_id": None,
        "first_seen_at": days(400),
        "clock": days(70),
        "lifecycle": "active",
        "lifecycle_since": days(370),
        "reasons": ["repeat_purchase"],
        "engagement_tier": "participant",
        "active_until": None,
        "engaged_until": days(70),
        "contribution_score": 1.5,
        "reaction_score": 0.0,
        "scores_at": days(70),
        "last_interaction_at": days(70),
        "last_left_at": None,
        "last_unfollowed_at": None,
        "last_complaint_at": None,
        "first_purchase_at": days(400),
        "last_purchase_at": days(100),
        "home_store_id": "store-001",
        "sales": 2,
        "refunds": 0,
        "sales_minor": 12_000,
        "refunds_minor": 0,
        "value_tier": None,
        "p_alive": 0.8,
        "expected_purchases": 0.4,
        "clv_minor": 40_000,
        "value_at_risk_minor": 8_000,
        "next_review_at": None,
        "state_version": 3,
        "merged_into": None,
    }
    if set(template) != set(COLUMNS):
        raise RuntimeError(f"members columns changed: {sorted(set(COLUMNS) ^ set(template))}")
    values = [template[c] for c in COLUMNS]
    id_at, due_at = COLUMNS.index("member_id"), COLUMNS.index("next_review_at")
    due, later = until - timedelta(minutes=1), until + timedelta(days=30)
    for n in range(count):
        values[id_at] = f"{prefix}{n:07d}"
        values[due_at] = due if n % 100 == 0 else later
        yield tuple(values)


async def measure_sweep(bench: Bench) -> SweepFigures | None:
    if pids := scoring_pids():
        raise BenchAborted(f"a scoring process is running (pid {pids}); its sweeper would take the synthetic members")
    if members := await bench.probe.group_members(GROUP):
        raise BenchAborted(f"consumer group {GROUP!r} has {members} member(s): a scoring process runs elsewhere")
    run, until, count = new_run_id(), SWEEP_UNTIL, bench.args.sweep_members
    prefix = f"m_{run}_sweep_"
    pool = await create_pool(bench.dsn, min_size=1, max_size=2)
    outbox_before: int | None = None
    try:
        async with pool.acquire() as conn:
            others = await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until)
            if others:
                bench.warnings.append(f"sweep not run: {others} stored members are due by {until:%Y-%m-%d} already")
                return None
            outbox_before = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
            progress(f"phase 4: COPY {count:,} synthetic members (run {run}) into scoring.members…")
            began = time.perf_counter()
            await conn.copy_records_to_table("members", records=sweep_rows(prefix, count, until), columns=COLUMNS)
            insert_s = time.perf_counter() - began
            began = time.perf_counter()
            await conn.execute("ANALYZE members")
            analyze_s = time.perf_counter() - began
            due = int(await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until))
        progress(f"phase 4: inserted in {insert_s:.1f} s, analyzed in {analyze_s:.1f} s; sweeping {due:,} due…")
        sweeper = Sweeper(pool, PolicyHolder(), SweepSettings(batch_size=bench.args.sweep_batch))
        await sweeper.sweep(until=until - timedelta(days=3650))  # loads the policy: not part of the sweep
        began = time.perf_counter()
        swept = await sweeper.sweep(until=until)
        seconds = time.perf_counter() - began
        progress(f"phase 4: swept {swept:,} in {seconds:.2f} s")
        async with pool.acquire() as conn:
            transitions = int(
                await conn.fetchval("SELECT count(*) FROM transitions WHERE starts_with(member_id, $1)", prefix)
            )
            outbox_rows = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE id > $1", outbox_before))
            due_after = int(await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until))
    finally:
        began = time.perf_counter()
        if outbox_before is not None:
            progress("phase 4: deleting the synthetic members, their transitions and outbox rows…")
            async with pool.acquire() as conn:
                await delete_sweep_rows(conn, prefix, outbox_before)
        await pool.close()
        cleanup_s = time.perf_counter() - began
    return SweepFigures(
        run=run,
        members_inserted=count,
        insert_s=insert_s,
        analyze_s=analyze_s,
        until=until.isoformat(),
        due=due,
        swept=swept,
        seconds=seconds,
        members_per_s=swept / seconds if seconds > 0 else 0.0,
        transitions=transitions,
        outbox_rows=outbox_rows,
        due_after=due_after,
        batch_size=bench.args.sweep_batch,
        cleanup_s=cleanup_s,
    )


async def delete_sweep_rows(conn: Any, prefix: str, outbox_after: int) -> None:
    key = prefix.encode()
    await conn.execute(
        "DELETE FROM outbox WHERE id > $1 AND published_at IS NULL AND substring(key FROM 1 FOR $2) = $3",
        outbox_after,
        len(key),
        key,
    )
    await conn.execute("DELETE FROM transitions WHERE starts_with(member_id, $1)", prefix)
    await conn.execute("DELETE FROM members WHERE starts_with(member_id, $1)", prefix)
    await conn.execute("VACUUM (ANALYZE) members")


# -- cleanup of phases 1 and 3 -------------------------------------------------------------------------


async def keep_downstream_out(bench: Bench) -> None:
    """Move campaigns' group past the bench's state events, so no offer is made to a bench member.

    Campaigns consumes member.state.v1; left behind, the next `make demo` or campaigns start
    would greet tens of thousands of bench members and keep the notifier busy for minutes.
    """
    if await bench.probe.group_members(DOWNSTREAM_GROUP):
        bench.warnings.append(f"group {DOWNSTREAM_GROUP!r} is running: it will act on the bench's state events")
        return
    state = await bench.probe.partitions([MEMBER_STATE.name])
    await move_group_to(bench, await bench.probe.end_offsets(state), group=DOWNSTREAM_GROUP)


async def cleanup(bench: Bench) -> None:
    if not bench.prefixes:
        return
    await keep_downstream_out(bench)
    progress(f"deleting the rows of runs {', '.join(p[2:-1] for p in bench.prefixes)}…")
    conn = await asyncpg.connect(bench.dsn)
    try:
        async with conn.transaction():
            for prefix in bench.prefixes:
                for table in ("transitions", "sales", "community_members", "members"):
                    await conn.execute(f"DELETE FROM {table} WHERE starts_with(member_id, $1)", prefix)  # noqa: S608
                await conn.execute("DELETE FROM deferred_events WHERE strpos(payload::text, $1) > 0", prefix)
                key = prefix.encode()
                await conn.execute("DELETE FROM outbox WHERE substring(key FROM 1 FOR $1) = $2", len(key), key)
            # Counters are aggregates over everyone: put back what they were before this run.
            for community in sorted(bench.communities):
                before = bench.activity_before.get(community)
                if before is None:
                    await conn.execute("DELETE FROM community_activity WHERE community_id = $1", community)
                else:
                    sets = ", ".join(f"{c} = ${n}" for n, c in enumerate(ACTIVITY_COLUMNS, start=2))
                    await conn.execute(
                        f"UPDATE community_activity SET {sets} WHERE community_id = $1",  # noqa: S608
                        community,
                        *before,
                    )
    finally:
        await conn.close()


# -- the run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    probe = KafkaProbe(settings.kafka.bootstrap_servers)
    await probe.start()
    sections: dict[str, Any] = {}
    try:
        bench = Bench(
            settings=settings,
            probe=probe,
            inputs=await probe.partitions([spec.name for spec in CONSUMES]),
            args=args,
            stamp=stamp,
        )
        machine = machine_facts(
            settings.kafka.bootstrap_servers,
            await kafka_version(settings.kafka.bootstrap_servers),
            await postgres_version(bench.dsn),
            f"{settings.pg.host}:{settings.pg.port}",
        )
        sections["machine"] = asdict(machine)
        try:
            if bench.runs("throughput") or bench.runs("latency"):
                await preflight(bench)
                await snapshot_activity(bench)
                await service_phases(bench, sections)
            if bench.runs("sweep"):
                figures = await measure_sweep(bench)
                if figures is not None:
                    sections["sweep"] = asdict(figures)
        finally:
            if not args.keep:
                await cleanup(bench)
            elif bench.prefixes:
                progress(f"--keep: rows of member ids {bench.prefixes} stay")
        sections["warnings"] = bench.warnings
        if bench.log_dir.exists():
            sections["scoring_log"] = str(bench.log_dir / "scoring.log")
            sections["scoring_log_problems"] = log_problems(bench.log_dir / "scoring.log")
    finally:
        await probe.close()
    return sections


async def service_phases(bench: Bench, sections: dict[str, Any]) -> None:
    """Phases 1-3: they share one scoring process."""
    loaded: Preloaded | None = None
    if bench.runs("throughput"):
        loaded = await preload(bench)
        if bench.runs("baseline"):
            sections["baseline"] = asdict(await measure_baseline(bench, loaded))
    else:
        await move_group_to_end(bench)
    profiler = Profiler.find(bench.log_dir / "scoring-profile.txt") if bench.args.profile else None
    latency_profiler = Profiler.find(bench.log_dir / "scoring-profile-latency.txt") if bench.args.profile else None
    if bench.args.profile and profiler is None:
        bench.warnings.append("--profile: py-spy not found (uv pip install py-spy)")
    async with running_scoring(bench) as scoring:
        if loaded is not None:
            throughput = await measure_throughput(bench, loaded, scoring, profiler)
            sections["throughput"] = asdict(throughput)
            progress(
                f"phase 1: {throughput.rate_steady or 0:,.0f} events/s steady, "
                f"{throughput.rate_with_startup or 0:,.0f} events/s from spawn; lost {throughput.lost}"
            )
        else:
            await scoring.ready
        if bench.runs("latency"):
            latency = await measure_latency(bench, scoring, latency_profiler)
            sections["latency"] = asdict(latency)
            progress(f"phase 3: p99 {latency.p99_ms or 0:,.0f} ms, lost {latency.lost}")


# -- the report --------------------------------------------------------------------------------


def code_fingerprint() -> dict[str, str]:
    """Which code the figures are of: a hash of scoring's and the shared plumbing's sources, and their newest change."""
    root = Path(__file__).resolve().parents[1]
    patterns = ("services/scoring/**/*.py", "services/scoring/**/*.sql", "shared/**/*.py")
    files = sorted(path for pattern in patterns for path in root.glob(pattern))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    newest = max((path.stat().st_mtime for path in files), default=0.0)
    return {"sources_sha256": digest.hexdigest()[:16], "newest_change": datetime.fromtimestamp(newest, UTC).isoformat()}


def merge_results(previous: dict[str, Any], sections: dict[str, Any], command: str, stamp: str) -> dict[str, Any]:
    """This run's phases replace the stored ones; each phase keeps the command and time that measured it."""
    merged = {key: value for key, value in previous.items() if key in PHASES}
    for phase in PHASES:
        if phase in sections:
            merged[phase] = {"command": command, "started_at": stamp, **sections[phase]}
    if "throughput" in sections and "baseline" not in sections:
        merged.pop("baseline", None)  # a baseline is only meaningful beside the throughput of its run
    runs = dict(previous.get("runs", {}))
    runs[stamp] = {
        "command": command,
        "code": code_fingerprint(),
        "machine": sections.get("machine"),
        "warnings": sections.get("warnings", []),
        "scoring_log": sections.get("scoring_log"),
        "scoring_log_problems": sections.get("scoring_log_problems", {}),
    }
    merged["runs"] = runs
    merged["machine"] = sections.get("machine")
    merged["targets"] = {
        "sustained_events_per_s": TARGET_EVENTS_PER_S,
        "p99_ms_at_2000_per_s": TARGET_P99_MS,
        "sweep_1m_members_1pct_due_s": TARGET_SWEEP_S,
        "fit_1m_members_s": TARGET_FIT_S,
    }
    if FIT_RESULTS_PATH.exists():
        fit = json.loads(FIT_RESULTS_PATH.read_text())
        merged["fit"] = {key: fit.get(key) for key in ("command", "started_at", "members", "fit_s", "compress_s")}
    merged["lost_events"] = sum(merged.get(p, {}).get("lost", 0) for p in ("throughput", "latency"))
    return merged


def render(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    t, b, lat, s, fit = (results.get(k) for k in ("throughput", "baseline", "latency", "sweep", "fit"))
    base_rate = b["rate"] if b else None
    if t:
        ratio = _ratio(t["rate_steady"], base_rate)
        rows.append(
            (
                "events applied to state / s, first committed batch → group lag 0",
                f"{_num(t['rate_steady'])} ({t['steady_events']:,} events in {_s(t['steady_s'])})",
                _target(t["rate_steady"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                ratio,
                t["command"],
            )
        )
        rows.append(
            (
                "events applied / s, spawn → group lag 0 (start-up included)",
                f"{_num(t['rate_with_startup'])} ({t['events']:,} events in {_s(t['lag_zero_after_s'])};"
                f" ready after {_s(t['startup_s'])})",
                _target(t["rate_with_startup"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                _ratio(t["rate_with_startup"], base_rate),
                t["command"],
            )
        )
        if b:
            rows.append(
                (
                    "bare aiokafka consume loop (commit per batch), same records",
                    f"{_num(b['rate'])} ({b['records']:,} records in {_s(b['seconds'])})",
                    "—",
                    "1",
                    b["command"],
                )
            )
        rows.append(
            (
                "nothing lost: events applied (in inbox, not deferred) / published",
                f"{t['events_in_inbox'] - t['still_deferred']:,} / {t['events']:,} (lost {t['lost']:,});"
                f" {t['members_in_state']:,}/{t['members']:,} members;"
                f" purchases {t['purchases_in_state']:,}/{t['purchase_events']:,}",
                "lost 0",
                "—",
                t["command"],
            )
        )
        rows.append(
            (
                "scoring CPU per 1,000 events (steady); CPU share",
                f"{_num(t['cpu_s_per_1000_events'], '.3f')} CPU-s; {_pct(t['steady_process'], 'cpu_percent')}"
                f" of a core, host {_pct(t['steady_process'], 'host_cpu_percent')}",
                "—",
                "—",
                t["command"],
            )
        )
        rows.append(("scoring RSS ready → peak → lag 0", _rss(t["process"]), "—", "—", t["command"]))
        cm = t.get("consumer_metrics") or {}
        if cm.get("batch_records_count"):
            rows.append(
                (
                    "scoring's batches (its /metrics at lag 0)",
                    f"{cm['batch_records_count']:,.0f} batches, mean {cm.get('batch_records_mean', 0):,.0f} records,"
                    f" mean {1000 * cm.get('batch_seconds_mean', 0):,.0f} ms each;"
                    f" {cm.get('swept_members_total', 0):,.0f} members swept meanwhile",
                    "—",
                    "—",
                    t["command"],
                )
            )
        rows.append(
            (
                "state events of the backlog published (spawn → outbox empty)",
                f"{t['state_events']:,} transitions, {_s(t['outbox_drained_after_s'])}",
                "—",
                "—",
                t["command"],
            )
        )
    if lat:
        rows.append(
            (
                f"published → state event consumed, p50 / p95 / p99 / max at {lat['offered_rate']:,.0f}/s offered",
                " / ".join(_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
                + f" ({lat['received']:,}/{lat['sent']:,} received, achieved {lat['achieved_rate']:,.0f}/s,"
                f" lost {lat['lost']:,}; scoring CPU {_pct(lat['process'], 'cpu_percent')} of a core,"
                f" host {_pct(lat['process'], 'host_cpu_percent')})",
                _target(lat["p99_ms"], TARGET_P99_MS, "p99 ≤ 250 ms", higher=False),
                _ratio(lat["p99_ms"], lat["bare_p99_ms"], "p99 ×"),
                lat["command"],
            )
        )
        rows.append(
            (
                "bare Kafka hop (published → bench consumed the input), same events",
                " / ".join(_ms(lat[k]) for k in ("bare_p50_ms", "bare_p95_ms", "bare_p99_ms", "bare_max_ms")),
                "—",
                "1",
                lat["command"],
            )
        )
    if s:
        rows.append(
            (
                f"sweep over {s['members_inserted']:,} stored members, 1% due (batch {s['batch_size']:,})",
                f"{s['seconds']:.2f} s: {s['swept']:,} of {s['due']:,} due swept, {s['members_per_s']:,.0f} members/s,"
                f" {s['transitions']:,} transitions, {s['due_after']:,} left due",
                _target(s["seconds"], TARGET_SWEEP_S, "≤ 5 s", higher=False),
                "—",
                s["command"],
            )
        )
        rows.append(
            (
                "(setup) COPY of the synthetic members; ANALYZE",
                f"{s['insert_s']:.1f} s ({s['members_inserted'] / s['insert_s']:,.0f} rows/s); {s['analyze_s']:.1f} s",
                "—",
                "—",
                s["command"],
            )
        )
    if fit:
        rows.append(
            (
                f"BG/NBD fit on {fit['members']:,} members (bench.scoring_fit, {fit['started_at']})",
                f"{fit['fit_s']:.2f} s (+ {fit['compress_s']:.2f} s compress)",
                _target(fit["fit_s"], TARGET_FIT_S, "≤ 30 s", higher=False),
                "—",
                str(fit["command"]),
            )
        )
    m = results.get("machine") or {}
    lines = [
        "## Scoring benchmark",
        "",
        f"{m.get('cpu_count')} cores, {m.get('memory_gib', 0):.1f} GiB RAM, {m.get('platform')},"
        f" Python {m.get('python')};"
        f" Kafka {m.get('kafka_bootstrap')} ({m.get('kafka_cluster')}), {m.get('postgres')} at"
        f" {m.get('postgres_address')}" + (", on this host" if m.get("stack_on_this_host") else ""),
        "",
        "| figure | value | target | ratio to bare loop | command |",
        "|---|---|---|---|---|",
        *(f"| {a} | {v} | {tg} | {r} | `{c}` |" for a, v, tg, r, c in rows),
    ]
    for title, section in (("phase 1 (backlog)", t), ("phase 3 (latency)", lat)):
        lines += _profile(title, (section or {}).get("profile"))
    return "\n".join(lines)


def _profile(title: str, profile: dict[str, Any] | None) -> list[str]:
    if not profile or not profile.get("samples"):
        return []
    lines = ["", f"py-spy, {title}: {profile['samples']:,} samples, idle {_share(profile['idle_share'])}", ""]
    lines += ["| self (share of busy samples) | | inclusive | |", "|---|---:|---|---:|"]
    own = list(profile["self_share_of_busy"].items())[:15]
    inclusive = [(k, v) for k, v in profile["inclusive_share_of_busy"].items() if not _root_frame(k)][:15]
    for n in range(max(len(own), len(inclusive))):
        left = own[n] if n < len(own) else ("", None)
        right = inclusive[n] if n < len(inclusive) else ("", None)
        lines.append(f"| {left[0]} | {_share(left[1])} | {right[0]} | {_share(right[1])} |")
    return lines


ROOT_FRAMES = ("typer/", "runpy", "asyncio/", "scoring/__main__.py", "entrypoints/cli.py", "shared/runtime.py")


def _root_frame(name: str) -> bool:
    """Frames every sample passes through (the CLI, asyncio's loop, the service runner): not informative."""
    return any(marker in name for marker in ROOT_FRAMES)


def _num(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _pct(window: dict[str, Any] | None, key: str) -> str:
    return "n/a" if not window else f"{window[key]:.0f}%"


def _rss(window: dict[str, Any] | None) -> str:
    if not window:
        return "n/a"
    return f"{window['rss_start_mib']:.0f} → {window['rss_peak_mib']:.0f} → {window['rss_end_mib']:.0f} MiB"


def _ratio(value: float | None, base: float | None, prefix: str = "") -> str:
    return "n/a" if value is None or not base else f"{prefix}{value / base:.3f}"


def _target(value: float | None, target: float, text: str, *, higher: bool) -> str:
    if value is None:
        return f"{text} (n/a)"
    met = value >= target if higher else value <= target
    return f"{text} ({'met' if met else 'MISSED'})"


def write_results(results: dict[str, Any]) -> Path:
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    return RESULTS_PATH


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="canonical events pre-loaded for phase 1 (100,000)")
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="events/s offered in phase 3 (2,000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 3 offers them (20)")
    parser.add_argument("--sweep-members", type=int, default=1_000_000, help="members stored for phase 4 (1,000,000)")
    parser.add_argument("--sweep-batch", type=int, default=1_000, help="members per sweep batch (1,000, as scoring)")
    parser.add_argument("--skip", nargs="+", default=[], choices=PHASES, metavar="PHASE", help=f"of {PHASES}")
    parser.add_argument("--keep", action="store_true", help="keep phases 1 and 3's rows (the sweep's never stay)")
    parser.add_argument("--profile", action="store_true", help="py-spy record scoring during phase 1")
    args = parser.parse_args(argv)
    positive = (args.events, args.latency_rate, args.latency_seconds, args.sweep_members, args.sweep_batch)
    if min(positive) <= 0:
        parser.error("--events, --latency-*, --sweep-members and --sweep-batch must be positive")
    if "throughput" in args.skip and "baseline" not in args.skip:
        args.skip.append("baseline")  # the baseline reads phase 1's records
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    command = shlex.join(["python", "-m", "bench.scoring_throughput", *argv])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        sections = asyncio.run(run(args, command, stamp))
    except BenchAborted as exc:
        print(f"scoring benchmark not run: {exc}", file=sys.stderr)
        return 2
    except ScoringFailed as exc:
        print(f"scoring benchmark failed: {exc}", file=sys.stderr)
        return 2
    previous = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    results = merge_results(previous, sections, command, stamp)
    print(render(results))
    code = results["runs"][stamp]["code"]
    print(f"\ncode measured: sources {code['sources_sha256']}, newest change {code['newest_change']}")
    for warning in sections.get("warnings", []):
        print(f"WARNING: {warning}")
    for problem, count in list(sections.get("scoring_log_problems", {}).items())[:8]:
        print(f"scoring log: {count:>6,} × {problem}")
    print(f"\nresults: {write_results(results)}")
    lost = sum(sections.get(p, {}).get("lost", 0) for p in ("throughput", "latency"))
    if lost:
        print(f"FAILED: scoring lost {lost} event(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
