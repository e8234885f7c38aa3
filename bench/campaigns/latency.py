"""Phase 2: trigger published → offer published, for fresh members the latency campaign surely issues to.

Each trigger is the first state (lifecycle ``new``) of a brand-new member in the region only
``bench_latency_welcome`` targets: a greeting with no holdout, no budget, no consent or frequency
cap, so each trigger yields exactly one offer. Offers are matched to triggers by member id (the
record key). Latency = the offer record's Kafka timestamp (set by the outbox relay's producer)
− the trigger's send time, both wall clock on this host. Beside it, in the same run: the bare
Kafka hop, trigger sent → the same trigger consumed by a plain consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.campaigns.config import GROUP, LATENCY_REGION, POLL_S, QUIET_S, STALL_S
from bench.campaigns.figures import LatencyFigures
from bench.campaigns.members import Profile
from bench.campaigns.process import CampaignsProcess, alive, mark, wait_idle
from bench.campaigns.stack import Bench
from bench.campaigns.triggers import Trigger
from bench.ingest_throughput import new_run_id, percentiles, progress
from bench.kafka_ops import produce_paced_records, ranges_between, upstream_producer
from bench.scoring.profiler import Profiler
from shared.contracts import KafkaRecord
from shared.contracts.state import EngagementTier, Lifecycle, ValueTier
from shared.contracts.topics import MEMBER_STATE


class KeyWatcher:
    """Consumes topics from their end offsets on; per key with ``prefix``: Kafka timestamp and receive time (s)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix.encode()
        self.seen: dict[str, tuple[float, float]] = {}
        self.duplicates = 0
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20)
        self._task: asyncio.Task[None] | None = None

    async def start(self, partitions: Sequence[TopicPartition]) -> None:
        await self._consumer.start()
        self._consumer.assign(list(partitions))
        for tp, end in (await self._consumer.end_offsets(list(partitions))).items():
            self._consumer.seek(tp, end)
        self._task = asyncio.create_task(self._consume(), name="watch-keys")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _consume(self) -> None:
        while True:
            polled = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.time()
            for records in polled.values():
                for record in records:
                    key = record.key or b""
                    if not key.startswith(self.prefix):
                        continue
                    if key.decode() in self.seen:
                        self.duplicates += 1
                    else:
                        self.seen[key.decode()] = (record.timestamp / 1000, now)


def fresh_members(run: str, count: int, rate: float) -> list[tuple[str, KafkaRecord]]:
    base = datetime.now(UTC)
    out = []
    for n in range(count):
        member = Profile(f"m_{run}_lat_{n:06d}", LATENCY_REGION, None, ValueTier.MID, EngagementTier.ACTIVE, 0.9, 0, 0)
        state = member.state(base + timedelta(seconds=n / rate), Lifecycle.NEW, None, 1)
        out.append((member.member_id, Trigger(f"{run}-lat-{n:06d}", state).record()))
    return out


async def measure_latency(bench: Bench, process: CampaignsProcess, profiler: Profiler | None) -> LatencyFigures:
    run = new_run_id()
    rate, seconds = bench.args.latency_rate, bench.args.latency_seconds
    records = fresh_members(run, int(rate * seconds), rate)
    progress("phase 2: waiting until campaigns is idle (lag 0, outbox published)…")
    await wait_idle(bench, process)
    offers, bare = KeyWatcher(bench.bootstrap, f"m_{run}_"), KeyWatcher(bench.bootstrap, f"m_{run}_")
    state_partitions = [tp for tp in bench.inputs if tp.topic == MEMBER_STATE.name]
    await offers.start(bench.offers)
    await bare.start(state_partitions)
    producer = upstream_producer(bench.bootstrap)
    await producer.start()
    try:
        before = await bench.probe.end_offsets(bench.inputs + bench.offers)
        progress(f"phase 2: {len(records):,} fresh members' first states at {rate:,.0f}/s (run {run})…")
        if profiler is not None:
            profiler.start(process.service.process.pid)
        started_at = mark(process.sampler)
        began = time.perf_counter()
        wall_offset = time.time() - time.perf_counter()
        sent = {ref: at + wall_offset for ref, at in (await produce_paced_records(producer, records, rate)).items()}
        sending_s = time.perf_counter() - began
        await wait_offers(bench, process, offers, sent)
        ended_at = mark(process.sampler)
        bench.note(ranges_between(before, await bench.probe.end_offsets(bench.inputs + bench.offers)))
    finally:
        if profiler is not None:
            profiler.stop()
        await producer.stop()
        await offers.stop()
        await bare.stop()
    stamped = sorted(1000 * (offers.seen[ref][0] - at) for ref, at in sent.items() if ref in offers.seen)
    consumed = sorted(1000 * (offers.seen[ref][1] - at) for ref, at in sent.items() if ref in offers.seen)
    hops = sorted(1000 * (bare.seen[ref][1] - at) for ref, at in sent.items() if ref in bare.seen)
    cuts, eaten, bare_cuts = percentiles(stamped), percentiles(consumed), percentiles(hops)
    return LatencyFigures(
        run=run,
        offered_rate=rate,
        seconds=seconds,
        sent=len(sent),
        achieved_rate=len(sent) / sending_s,
        offers=len(stamped),
        lost=len(sent) - len(stamped),
        duplicates=offers.duplicates,
        p50_ms=cuts["p50_ms"],
        p95_ms=cuts["p95_ms"],
        p99_ms=cuts["p99_ms"],
        max_ms=cuts["max_ms"],
        consumed_p50_ms=eaten["p50_ms"],
        consumed_p99_ms=eaten["p99_ms"],
        bare_hop_received=len(hops),
        bare_p50_ms=bare_cuts["p50_ms"],
        bare_p95_ms=bare_cuts["p95_ms"],
        bare_p99_ms=bare_cuts["p99_ms"],
        bare_max_ms=bare_cuts["max_ms"],
        process=process.sampler.window(started_at, ended_at),
        profile=profiler.summary() if profiler is not None else None,
    )


async def wait_offers(bench: Bench, process: CampaignsProcess, watcher: KeyWatcher, sent: dict[str, float]) -> None:
    """Until every trigger has its offer (or none came for QUIET_S) and the group's lag is 0."""
    last: tuple[int, int] | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        alive(process)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        done = sum(1 for ref in sent if ref in watcher.seen)
        now = time.monotonic()
        if (lag, done) != last:
            last, changed_at = (lag, done), now
        if lag == 0 and (done >= len(sent) or now - changed_at >= QUIET_S):
            return
        if now - changed_at >= STALL_S:
            return
        if now - reported_at >= 5.0:
            progress(f"  {done:,}/{len(sent):,} offers, group lag {lag:,}")
            reported_at = now
        await asyncio.sleep(POLL_S)
