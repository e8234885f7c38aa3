"""The baseline ingest is compared with: a bare aiokafka consume → produce loop over the same raw records.

It reads the offset range a run produced (a fresh consumer group, manual assignment), sends
every value unchanged to a scratch topic with the producer the services use (idempotent,
acks=all, 5 ms linger), waits for the acknowledgements of each batch and commits the batch's
offsets: the Kafka work of ingest with no parsing, no Postgres and no outbox.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.kafka_ops import Ranges
from shared.contracts.raw import RawUpstreamRecord
from shared.contracts.topics import TopicSpec
from shared.kafka.admin import ensure_topics
from shared.kafka.producer import idempotent_producer
from shared.settings import KafkaSettings

SCRATCH = TopicSpec(
    "bench.scratch.v1", RawUpstreamRecord, "none", "Benchmark scratch: raw records copied", retention_ms=3_600_000
)


@dataclass(frozen=True)
class BaselineResult:
    records: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def run_baseline(settings: KafkaSettings, run: str, ranges: Ranges) -> BaselineResult:
    await ensure_topics(settings.bootstrap_servers, [SCRATCH])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"bench-baseline-{run}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = idempotent_producer(settings, "bench-baseline")
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            consumer.seek(tp, start)
        return await _copy(consumer, producer, ranges, settings.max_batch_records)
    finally:
        await producer.stop()
        await consumer.stop()


async def _copy(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, ranges: Ranges, batch_records: int
) -> BaselineResult:
    """Copy batches (of the size ingest polls) until every partition reached its end; time first fetch → last ack."""
    pending: set[TopicPartition] = {tp for tp, (start, end) in ranges.items() if end > start}
    copied = 0
    started: float | None = None
    while pending:
        polled = await consumer.getmany(*pending, timeout_ms=200, max_records=batch_records)
        if not polled:
            continue
        started = started or time.perf_counter()
        futures = [
            await producer.send(SCRATCH.name, record.value, key=record.key, headers=list(record.headers))
            for tp, records in polled.items()
            for record in records
            if record.offset < ranges[tp][1]
        ]
        await asyncio.gather(*futures)
        await consumer.commit({tp: records[-1].offset + 1 for tp, records in polled.items()})
        copied += len(futures)
        pending -= {tp for tp, records in polled.items() if records[-1].offset + 1 >= ranges[tp][1]}
    return BaselineResult(copied, time.perf_counter() - started if started else 0.0)
