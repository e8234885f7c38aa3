"""Phase 2: trigger published → offer published, for fresh members the latency campaign surely issues to.

Each trigger is the first state (lifecycle ``new``) of a brand-new member in the region only
``bench_latency_welcome`` targets: a greeting with no holdout, no budget, no consent or frequency
cap, so each trigger yields exactly one offer. Offers are matched to triggers by member id (the
record key). Latency = the offer record's Kafka timestamp (set by the outbox relay's producer)
− the trigger's send time, both wall clock on this host. Beside it, in the same run: the bare
Kafka hop, trigger sent → the same trigger consumed by a plain consumer.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from aiokafka.structs import ConsumerRecord

from bench.campaigns.config import LATENCY_REGION
from bench.campaigns.figures import LatencyFigures
from bench.campaigns.members import Profile
from bench.campaigns.stack import Bench
from bench.campaigns.triggers import Trigger
from bench.ingest_throughput import new_run_id, progress
from bench.kafka_ops import ranges_between
from bench.outputs import TopicWatcher
from bench.service_bench.figures import cuts, delays_ms
from bench.service_bench.latency import latency_record, pacing, wait_outputs
from bench.service_bench.process import ServiceProcess, wait_idle
from bench.service_bench.profiler import Profiler
from shared.contracts import KafkaRecord
from shared.contracts.state import EngagementTier, Lifecycle, ValueTier
from shared.contracts.topics import MEMBER_STATE


class KeyWatcher(TopicWatcher):
    """Records whose key starts with ``prefix``: ``received`` (wall clock, s) and ``stamped`` (Kafka timestamp, s)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        super().__init__(bootstrap, "watch-keys", fetch_max_wait_ms=20)
        self.prefix = prefix.encode()
        self.stamped: dict[str, float] = {}

    def _now(self) -> float:
        return time.time()

    def _take(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        key = record.key or b""
        if key.startswith(self.prefix) and self._first(key.decode(), now):
            self.stamped[key.decode()] = record.timestamp / 1000


def fresh_members(run: str, count: int, rate: float) -> list[tuple[str, KafkaRecord]]:
    base = datetime.now(UTC)
    out = []
    for n in range(count):
        member = Profile(f"m_{run}_lat_{n:06d}", LATENCY_REGION, None, ValueTier.MID, EngagementTier.ACTIVE, 0.9, 0, 0)
        state = member.state(base + timedelta(seconds=n / rate), Lifecycle.NEW, None, 1)
        out.append((member.member_id, Trigger(f"{run}-lat-{n:06d}", state).record()))
    return out


async def measure_latency(bench: Bench, process: ServiceProcess, profiler: Profiler | None) -> LatencyFigures:
    run = new_run_id()
    rate, seconds = bench.args.latency_rate, bench.args.latency_seconds
    records = fresh_members(run, int(rate * seconds), rate)
    progress("phase 2: waiting until campaigns is idle (lag 0, outbox published)…")
    await wait_idle(bench, process)
    offers, bare = KeyWatcher(bench.bootstrap, f"m_{run}_"), KeyWatcher(bench.bootstrap, f"m_{run}_")
    state_partitions = [tp for tp in bench.inputs if tp.topic == MEMBER_STATE.name]
    async with pacing(bench, process, profiler, [(offers, bench.offers), (bare, state_partitions)]) as paced:
        before = await bench.probe.end_offsets(bench.inputs + bench.offers)
        progress(f"phase 2: {len(records):,} fresh members' first states at {rate:,.0f}/s (run {run})…")
        sent = {ref: at + paced.wall_offset for ref, at in (await paced.send(records, rate)).items()}
        await wait_outputs(bench, process, len(sent), lambda: offers.matched(sent), "offers")
        paced.end()
        bench.note(ranges_between(before, await bench.probe.end_offsets(bench.inputs + bench.offers)))
    stamped, consumed = delays_ms(sent, offers.stamped), delays_ms(sent, offers.received)
    hops = delays_ms(sent, bare.received)
    eaten = cuts(consumed)
    own = {
        "offers": len(stamped),
        "lost": len(sent) - len(stamped),
        "duplicates": offers.duplicates,
        **cuts(stamped),
        "consumed_p50_ms": eaten["p50_ms"],
        "consumed_p99_ms": eaten["p99_ms"],
    }
    return latency_record(LatencyFigures, run, paced, seconds, hops, **own)
