"""A produce → consume round trip through a consumer group with manual commits."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.postgres.pool import create_pool
from tests.integration.conftest import wait_for
from tests.integration.plumbing import (
    consuming,
    plumbing_consumer,
    seeded_topic,
)


async def test_every_record_is_applied_once_and_offsets_are_committed_after_the_db(
    bootstrapped, plumbing_dsn, plumbing_db
):
    seeded = await seeded_topic(bootstrapped.kafka, "roundtrip", 300)
    topic, group, dlq, ids = seeded.topic, seeded.group, seeded.dlq, seeded.ids

    pool = await create_pool(plumbing_dsn)

    async def all_applied() -> bool:
        return await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic) == len(ids)

    async with consuming(plumbing_consumer(bootstrapped.kafka, pool, topic, group, dlq)):
        await wait_for(all_applied, what="300 records applied")
    await pool.close()

    assert await plumbing_db.fetchval("SELECT max(times_applied) FROM applied WHERE topic = $1", topic) == 1
    # The group's committed offsets reach the end of every partition: nothing would be redelivered.
    probe = AIOKafkaConsumer(
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await probe.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        ends = await probe.end_offsets(partitions)
        committed = {tp: await probe.committed(tp) for tp in partitions}
    finally:
        await probe.stop()
    assert committed == ends
    assert sum(ends.values()) == len(ids)
    outbox_rows = await plumbing_db.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", f"{topic}.out")
    assert outbox_rows == len(ids)
