"""The baselines the services are compared with: a bare aiokafka loop over the same records.

It reads the offset range a run produced (a fresh consumer group, manual assignment) in batches
of the size the services poll, and commits each batch's offsets. For ingest (``copy=True``) it
also sends every value unchanged to a scratch topic with the producer the services use
(idempotent, acks=all, 5 ms linger) and waits for each batch's acknowledgements: the Kafka work
of ingest with no parsing, no Postgres and no outbox. For scoring (``copy=False``) it only
consumes and commits: the Kafka work of a consumer whose output is rare (state changes only).
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


async def run_baseline(settings: KafkaSettings, run: str, ranges: Ranges, *, copy: bool = True) -> BaselineResult:
    """Consume ``ranges`` (a fresh group ``bench-baseline-<run>``), copying to the scratch topic if ``copy``."""
    if copy:
        await ensure_topics(settings.bootstrap_servers, [SCRATCH])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"bench-baseline-{run}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = idempotent_producer(settings, "bench-baseline") if copy else None
    await consumer.start()
    if producer is not None:
        await producer.start()
    try:
        consumer.assign(list(ranges))
        for tp, (start, _) in ranges.items():
            consumer.seek(tp, start)
        return await _drain(consumer, producer, ranges, settings.max_batch_records)
    finally:
        if producer is not None:
            await producer.stop()
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer | None, ranges: Ranges, batch_records: int
) -> BaselineResult:
    """Consume batches (of the size the services poll) until every partition reached its end, committing each.

    With a producer, each batch is copied to the scratch topic and its acks awaited before the commit.
    Timed from the first fetch to the last commit.
    """
    pending: set[TopicPartition] = {tp for tp, (start, end) in ranges.items() if end > start}
    consumed = 0
    started: float | None = None
    while pending:
        polled = await consumer.getmany(*pending, timeout_ms=200, max_records=batch_records)
        if not polled:
            continue
        started = started or time.perf_counter()
        records = [record for tp, batch in polled.items() for record in batch if record.offset < ranges[tp][1]]
        if producer is not None:
            futures = [
                await producer.send(SCRATCH.name, record.value, key=record.key, headers=list(record.headers))
                for record in records
            ]
            await asyncio.gather(*futures)
        await consumer.commit({tp: batch[-1].offset + 1 for tp, batch in polled.items()})
        consumed += len(records)
        pending -= {tp for tp, batch in polled.items() if batch[-1].offset + 1 >= ranges[tp][1]}
    return BaselineResult(consumed, time.perf_counter() - started if started else 0.0)
