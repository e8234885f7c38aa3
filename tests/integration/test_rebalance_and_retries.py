"""Rebalances and transient failures never lose a record nor apply one twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from shared.kafka.records import UnitOfWork
from shared.observability import metrics
from shared.postgres.pool import create_pool
from tests.integration.conftest import wait_for
from tests.integration.plumbing import (
    ROLE,
    consuming,
    count_applications,
    group_caught_up,
    plumbing_consumer,
    seeded_topic,
)


async def test_a_second_consumer_joining_and_the_first_leaving_mid_stream_applies_everything_once(
    bootstrapped, plumbing_dsn, plumbing_db
):
    seeded = await seeded_topic(bootstrapped.kafka, "rebalance", 3000, partitions=6)
    topic, group, dlq, ids = seeded.topic, seeded.group, seeded.dlq, seeded.ids
    small_batches = bootstrapped.kafka.model_copy(update={"max_batch_records": 50})
    applied_by: Counter[str] = Counter()

    def slow_handler(name: str):  # slow enough that both consumers overlap while the stream flows
        async def handle(uow: UnitOfWork, batch) -> None:
            await asyncio.sleep(0.2)
            await count_applications(uow, batch)
            applied_by[name] += len(batch)

        return handle

    async def applied() -> int:
        return await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic)

    pool_a, pool_b = await create_pool(plumbing_dsn), await create_pool(plumbing_dsn)
    first = plumbing_consumer(small_batches, pool_a, topic, group, dlq, handler=slow_handler("first"))
    second = plumbing_consumer(small_batches, pool_b, topic, group, dlq, handler=slow_handler("second"))
    async with contextlib.AsyncExitStack() as running:
        async with consuming(first):
            await wait_for(lambda: applied_by["first"] >= 300, what="the first consumer under way")
            await running.enter_async_context(consuming(second))
            await wait_for(lambda: applied_by["second"] >= 100, what="the second consumer sharing the work")
        # The first consumer left the group; the second takes over its partitions.
        await wait_for(lambda: group_caught_up(bootstrapped.kafka, group, topic, 6), what="all offsets committed")
    await pool_a.close()
    await pool_b.close()

    assert await applied() == len(ids)
    assert await plumbing_db.fetchval("SELECT max(times_applied) FROM applied WHERE topic = $1", topic) == 1
    assert applied_by["first"] > 0
    assert applied_by["second"] > 0


async def test_transient_failures_are_retried_with_backoff_and_the_batch_applies_once(
    bootstrapped, plumbing_dsn, plumbing_db
):
    seeded = await seeded_topic(bootstrapped.kafka, "transient", 20, partitions=1)
    topic, group, dlq, ids = seeded.topic, seeded.group, seeded.dlq, seeded.ids
    failures_left = 5  # more than one retry budget: the batch is given back and fetched again

    async def flaky(uow: UnitOfWork, batch) -> None:
        nonlocal failures_left
        if failures_left:
            failures_left -= 1
            raise ConnectionError("database went away")
        await count_applications(uow, batch)

    retries_before = metrics.RETRIES.labels(ROLE)._value.get()
    pool = await create_pool(plumbing_dsn)
    consumer = plumbing_consumer(
        bootstrapped.kafka,
        pool,
        topic,
        group,
        dlq,
        handler=flaky,
        max_attempts=3,
        backoff_initial_s=0.01,
        backoff_max_s=0.1,
    )

    async def all_applied() -> bool:
        return await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic) == len(ids)

    async with consuming(consumer):
        await wait_for(all_applied, what="all records applied after the failures stopped")
    await pool.close()

    assert failures_left == 0
    assert await plumbing_db.fetchval("SELECT max(times_applied) FROM applied WHERE topic = $1", topic) == 1
    assert metrics.RETRIES.labels(ROLE)._value.get() - retries_before == 5
    dead = await plumbing_db.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", dlq)
    assert dead == 0, "a transient error is never a reason to dead-letter"
