"""Kafka helpers for the benchmarks: partitions, offsets, consumer-group lag, producers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaProducer, TopicPartition

from shared.contracts.envelope import KafkaRecord
from tools.kafka_probe import Offsets
from tools.upstream import UpstreamRecord

# [start, end) offsets per partition: the records one phase produced.
Ranges = dict[TopicPartition, tuple[int, int]]
T = TypeVar("T")


def ranges_between(before: Offsets, after: Offsets) -> Ranges:
    return {tp: (before[tp], after[tp]) for tp in before}


def fast_producer(bootstrap: str) -> AIOKafkaProducer:
    """For pre-loading input: durable (acks=all) but batched hard (linger, 512 KiB batches)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=50, max_batch_size=512 * 1024, max_request_size=4 << 20
    )


async def produce_timed(bootstrap: str, send: Callable[[AIOKafkaProducer], Awaitable[T]]) -> tuple[T, float]:
    """Pre-load with a ``fast_producer``: what ``send`` returns, and the seconds it took (start and stop excluded)."""
    producer = fast_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        result = await send(producer)
        return result, time.perf_counter() - started
    finally:
        await producer.stop()


def upstream_producer(bootstrap: str) -> AIOKafkaProducer:
    """For paced input: what a well-behaved upstream runs (idempotent, acks=all, 5 ms linger)."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)


async def produce_all(producer: AIOKafkaProducer, records: Iterable[UpstreamRecord]) -> list[str]:
    """Send every record as fast as the producer takes them; return their event refs once all are acknowledged."""
    refs: list[str] = []
    futures: list[asyncio.Future[object]] = []
    for record in records:
        futures.append(await producer.send(record.topic, record.body, headers=record.headers))
        refs.append(record.event_ref)
    await asyncio.gather(*futures)
    return refs


async def produce_paced(producer: AIOKafkaProducer, records: Sequence[UpstreamRecord], rate: float) -> dict[str, float]:
    """Send ``records`` at ``rate`` per second; return each event ref's send time (``time.perf_counter``)."""
    paced = [(r.event_ref, KafkaRecord(r.topic, None, r.body, tuple(r.headers))) for r in records]
    return await produce_paced_records(producer, paced, rate)


async def produce_paced_records(
    producer: AIOKafkaProducer, records: Sequence[tuple[str, KafkaRecord]], rate: float
) -> dict[str, float]:
    """Send (ref, record) pairs at ``rate`` per second; return each ref's send time (``time.perf_counter``)."""
    sent: dict[str, float] = {}
    futures: list[asyncio.Future[object]] = []
    started = time.perf_counter()
    for n, (ref, record) in enumerate(records):
        ahead = started + n / rate - time.perf_counter()
        if ahead > 0.002:  # sleep only when ahead by more than the event loop's timer resolution
            await asyncio.sleep(ahead)
        sent[ref] = time.perf_counter()
        futures.append(await producer.send(record.topic, record.value, key=record.key, headers=list(record.headers)))
    await asyncio.gather(*futures)
    return sent


async def produce_kafka_records(producer: AIOKafkaProducer, records: Iterable[KafkaRecord]) -> int:
    """Send every record (with its key) as fast as the producer takes them; return how many, once all are acked."""
    futures: list[asyncio.Future[object]] = []
    for record in records:
        futures.append(await producer.send(record.topic, record.value, key=record.key, headers=list(record.headers)))
    await asyncio.gather(*futures)
    return len(futures)
