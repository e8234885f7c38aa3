"""The latency phase: paced input to the idle service, its outputs watched until each arrived or none came.

The producer, the profiler and the process window are handled alike whatever the service; each
bench says what its input is and how to count the outputs that answer it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition

from bench.ingest_throughput import progress
from bench.kafka_ops import produce_paced_records, upstream_producer
from bench.outputs import TopicWatcher
from bench.rss import ProcessWindow
from bench.service_bench.figures import cuts
from bench.service_bench.process import ServiceProcess, alive, mark
from bench.service_bench.profiler import Profiler
from bench.service_bench.stack import ServiceBench
from shared.contracts import KafkaRecord

Record = TypeVar("Record")


@dataclass
class Paced:
    """One paced send: ``sent`` maps each ref to its send time (``time.perf_counter``)."""

    process: ServiceProcess
    producer: AIOKafkaProducer
    profiler: Profiler | None
    rate: float = 0.0  # offered, per second
    sent: dict[str, float] = field(default_factory=dict)
    sending_s: float = 0.0
    wall_offset: float = 0.0  # time.time() - time.perf_counter() as the sending began
    started_at: float = 0.0
    ended_at: float = 0.0

    async def send(self, records: Sequence[tuple[str, KafkaRecord]], rate: float) -> dict[str, float]:
        """Send at ``rate`` per second, profiled and sampled from the first record on."""
        self.rate = rate
        if self.profiler is not None:
            self.profiler.start(self.process.pid)
        self.started_at = mark(self.process.sampler)
        began = time.perf_counter()
        self.wall_offset = time.time() - time.perf_counter()
        self.sent = await produce_paced_records(self.producer, records, rate)
        self.sending_s = time.perf_counter() - began
        return self.sent

    def end(self) -> None:
        self.ended_at = mark(self.process.sampler)

    @property
    def achieved_rate(self) -> float:
        return len(self.sent) / self.sending_s

    @property
    def window(self) -> ProcessWindow | None:
        return self.process.sampler.window(self.started_at, self.ended_at)


@contextlib.asynccontextmanager
async def pacing(
    bench: ServiceBench,
    process: ServiceProcess,
    profiler: Profiler | None,
    watchers: Sequence[tuple[TopicWatcher, Sequence[TopicPartition]]],
) -> AsyncIterator[Paced]:
    """The watchers started on their partitions and an upstream producer; all stopped, with the profiler, after."""
    for watcher, partitions in watchers:
        await watcher.start(partitions)
    producer = upstream_producer(bench.bootstrap)
    await producer.start()
    try:
        yield Paced(process, producer, profiler)
    finally:
        if profiler is not None:
            profiler.stop()
        await producer.stop()
        for watcher, _ in watchers:
            await watcher.stop()


async def wait_outputs(
    bench: ServiceBench, process: ServiceProcess, expected: int, done: Callable[[], int], what: str
) -> None:
    """Until ``done()`` reaches ``expected`` (or stayed put for quiet_s) and the group's lag is 0; or a stall."""
    spec = bench.spec
    last: tuple[int, int] | None = None
    changed_at = reported_at = time.monotonic()
    while True:
        alive(process)
        lag = await bench.probe.group_lag(spec.group, bench.inputs)
        count = done()
        now = time.monotonic()
        if (lag, count) != last:
            last, changed_at = (lag, count), now
        if lag == 0 and (count >= expected or now - changed_at >= spec.quiet_s):
            return
        if now - changed_at >= spec.stall_s:
            return
        if now - reported_at >= 5.0:
            progress(f"  {count:,}/{expected:,} {what}, group lag {lag:,}")
            reported_at = now
        await asyncio.sleep(spec.poll_s)


def latency_record(
    record: Callable[..., Record], run: str, paced: Paced, seconds: float, hops: Sequence[float], **own: Any
) -> Record:
    """A bench's latency record: what was offered and sent, its ``own`` figures, the bare hop's, the process's."""
    return record(
        run=run,
        offered_rate=paced.rate,
        seconds=seconds,
        sent=len(paced.sent),
        achieved_rate=paced.achieved_rate,
        **own,
        bare_hop_received=len(hops),
        **cuts(hops, "bare_"),
        process=paced.window,
        profile=paced.profiler.summary() if paced.profiler is not None else None,
    )
