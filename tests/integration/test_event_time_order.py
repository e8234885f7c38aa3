"""A consumer in event-time order hands a backlog on oldest first, however its partitions are fetched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka.consumer import BatchConsumer
from shared.kafka.progress import progress_marks
from shared.kafka.records import Decoded, RawRecord, UnitOfWork
from shared.postgres.pool import create_pool
from tests.integration.conftest import wait_for
from tests.integration.plumbing import ROLE, consuming, create_topics, decode, unique_topic

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PARTITIONS = 3
PER_PARTITION = 200


def timed(record: RawRecord) -> Decoded[dict[str, Any]]:
    decoded = decode(record)
    return Decoded(decoded.event_id, decoded.payload, record, datetime.fromisoformat(decoded.payload["at"]))


async def publish_hours(bootstrapped: Any, topic: str, *, partition_by_partition: bool) -> None:
    """Partition p gets hours p, p+3, p+6, ...: each in order on its own, interleaved across partitions."""
    order = [(p, k) for p in range(PARTITIONS) for k in range(PER_PARTITION)]
    if not partition_by_partition:
        order.sort(key=lambda pk: (pk[1], pk[0]))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrapped.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for partition, k in order:
            at = T0 + timedelta(hours=PARTITIONS * k + partition)
            value = json.dumps({"id": f"{topic}-{partition}-{k}", "at": at.isoformat()}).encode()
            await producer.send(topic, value=value, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_backlog_is_handed_on_oldest_event_first_and_every_offset_is_committed(
    bootstrapped, plumbing_dsn, plumbing_db
):
    topic = unique_topic("event-time")
    await create_topics(bootstrapped.kafka, topic, f"{topic}.dlq", partitions=PARTITIONS)
    # Written one partition after the other, so fetches bring them partition by partition.
    await publish_hours(bootstrapped, topic, partition_by_partition=True)

    seen: list[datetime] = []

    async def record_order(uow: UnitOfWork, batch: Sequence[Decoded[dict[str, Any]]]) -> None:
        seen.extend(item.event_time for item in batch if item.event_time is not None)

    pool = await create_pool(plumbing_dsn)
    kafka = bootstrapped.kafka.model_copy(update={"max_batch_records": 50})
    consumer = BatchConsumer(
        service=ROLE,
        topics=[topic],
        group_id=f"{topic}.group",
        decoder=timed,
        handler=record_order,
        pool=pool,
        settings=kafka,
        dlq_topic=f"{topic}.dlq",
        event_time_order=True,
    )
    async with consuming(consumer):
        await wait_for(lambda: len(seen) >= PARTITIONS * PER_PARTITION, what="the backlog handed on")
    await pool.close()

    assert len(seen) == PARTITIONS * PER_PARTITION
    assert seen == sorted(seen), "handed on out of event-time order"
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers, group_id=f"{topic}.group", enable_auto_commit=False
    )
    await probe.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await probe.end_offsets(partitions)
        assert {tp: await probe.committed(tp) for tp in partitions} == ends
    finally:
        await probe.stop()


async def test_records_wait_for_the_upstream_progress_mark_that_covers_them(bootstrapped, plumbing_dsn, plumbing_db):
    """A "purchase" topic and a "state" topic whose producer marks its progress: live, both read to the end."""
    purchases, states = unique_topic("purchases"), unique_topic("states")
    await create_topics(bootstrapped.kafka, purchases, states, f"{purchases}.dlq", partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrapped.kafka.bootstrap_servers, acks="all")
    await producer.start()

    async def send(topic: str, hour: int, name: str) -> None:
        at = (T0 + timedelta(hours=hour)).isoformat()
        await producer.send_and_wait(topic, json.dumps({"id": f"{topic}-{name}", "at": at}).encode(), partition=0)

    async def mark(hour: int) -> None:
        [record] = progress_marks(states, 1, [0], T0 + timedelta(hours=hour), "test")
        await producer.send_and_wait(states, record.value, key=record.key, headers=list(record.headers), partition=0)

    seen: list[str] = []

    async def record_order(uow: UnitOfWork, batch: Sequence[Decoded[dict[str, Any]]]) -> None:
        seen.extend(item.payload["id"].split("-")[-1] for item in batch)

    pool = await create_pool(plumbing_dsn)
    consumer = BatchConsumer(
        service=ROLE,
        topics=[purchases, states],
        group_id=f"{purchases}.group",
        decoder=timed,
        handler=record_order,
        pool=pool,
        settings=bootstrapped.kafka,
        dlq_topic=f"{purchases}.dlq",
        event_time_order=True,
    )
    try:
        async with consuming(consumer):
            await send(states, 1, "state1")
            await mark(1)
            await wait_for(lambda: seen == ["state1"], what="the first state change")
            # The purchase at hour 3 is read at once, but the state topic is marked only up to hour 1.
            await send(purchases, 3, "buy3")
            await asyncio.sleep(3)
            assert seen == ["state1"], "the purchase went ahead of the state changes it may cause"
            await send(states, 2, "state2")
            await send(states, 3, "state3")
            await asyncio.sleep(3)
            assert seen == ["state1"], "only marks are promises: what follows one may still be older"
            await mark(3)
            await wait_for(lambda: len(seen) == 4, what="hours 2 and 3, once marked")
    finally:
        await producer.stop()
        await pool.close()
    assert seen[1:] == ["state2", "buy3", "state3"], "in event-time order; hour 3 whole, purchases first (topic order)"


async def test_a_consumer_joining_mid_backlog_starves_nobody_and_everything_is_handed_on_once(
    bootstrapped, plumbing_dsn, plumbing_db
):
    """A rebalance drops what the first consumer held in memory; its poll loop must still yield.

    (It did not: with a batch's worth thought due and nothing held after the revoke, it polled
    with no wait, forever, and only its lag update every 5 s let the event loop run.)
    """
    topic = unique_topic("event-time-join")
    await create_topics(bootstrapped.kafka, topic, f"{topic}.dlq", partitions=PARTITIONS)
    await publish_hours(bootstrapped, topic, partition_by_partition=False)

    handed: dict[str, list[str]] = {"first": [], "second": []}

    def handler(name: str):
        async def handle(uow: UnitOfWork, batch: Sequence[Decoded[dict[str, Any]]]) -> None:
            await asyncio.sleep(0.05)  # slow enough that the second joins while the first is mid-backlog
            handed[name].extend(item.payload["id"] for item in batch)

        return handle

    longest_gap = 0.0

    async def tick(stop: asyncio.Event) -> None:
        nonlocal longest_gap
        loop = asyncio.get_running_loop()
        last = loop.time()
        while not stop.is_set():
            await asyncio.sleep(0.05)
            longest_gap = max(longest_gap, loop.time() - last)
            last = loop.time()

    # Fetches of 50, handed on 10 at a time: the first consumer nearly always has more due in memory.
    kafka = bootstrapped.kafka.model_copy(update={"max_batch_records": 50})
    pools = [await create_pool(plumbing_dsn), await create_pool(plumbing_dsn)]
    first, second = (
        BatchConsumer(
            service=ROLE,
            topics=[topic],
            group_id=f"{topic}.group",
            decoder=timed,
            handler=handler(name),
            pool=pool,
            settings=kafka,
            dlq_topic=f"{topic}.dlq",
            event_time_order=True,
            aligned_batch_records=10,
        )
        for name, pool in zip(("first", "second"), pools, strict=True)
    )
    stop_ticking = asyncio.Event()
    ticker = asyncio.create_task(tick(stop_ticking))
    try:
        async with consuming(first):
            await wait_for(lambda: len(handed["first"]) >= 100, what="the first consumer under way")
            async with consuming(second):
                await wait_for(
                    lambda: len(handed["first"]) + len(handed["second"]) >= PARTITIONS * PER_PARTITION,
                    what="the whole backlog handed on",
                )
    finally:
        stop_ticking.set()
        await ticker
        for pool in pools:
            await pool.close()

    everything = handed["first"] + handed["second"]
    assert sorted(everything) == sorted({*everything}), "an event was handed on twice"
    assert len(everything) == PARTITIONS * PER_PARTITION
    assert handed["second"], "the second consumer never took a share"
    assert longest_gap < 2.0, f"the event loop stalled for {longest_gap:.1f} s"
