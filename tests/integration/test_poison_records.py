"""Poison records go to the DLQ with their reason, and the records after them are still processed."""

from __future__ import annotations

import base64
import json

from shared.postgres.pool import create_pool
from tests.integration.conftest import wait_for
from tests.integration.plumbing import (
    consuming,
    create_topics,
    event,
    plumbing_consumer,
    produce,
    read_all,
    unique_topic,
)


async def test_poison_goes_to_dlq_and_the_partition_keeps_flowing(bootstrapped, plumbing_dsn, plumbing_db, spawn):
    topic, group = unique_topic("poison"), unique_topic("group")
    dlq = f"{topic}.dlq"
    await create_topics(bootstrapped.kafka, topic, partitions=1)
    await create_topics(bootstrapped.kafka, dlq, f"{topic}.out", partitions=1)
    records = [
        event(f"{topic}-1"),
        (b"k", b"{not json"),
        event(f"{topic}-2"),
        event(f"{topic}-3", explode=True),  # decodes, but breaks the handler
        event(f"{topic}-4"),
    ]
    await produce(bootstrapped.kafka, topic, records)

    pool = await create_pool(plumbing_dsn)

    async def good_ones_applied() -> bool:
        return await plumbing_db.fetchval("SELECT count(*) FROM applied WHERE topic = $1", topic) == 3

    async with consuming(plumbing_consumer(bootstrapped.kafka, pool, topic, group, dlq)):
        await wait_for(good_ones_applied, what="the three good records")
        relay = spawn("tests.integration.procs.relay_proc")
        letters = await read_all(bootstrapped.kafka, dlq, expected_at_least=2)
        relay.terminate()
    await pool.close()

    by_offset = {json.loads(r.value)["original_offset"]: json.loads(r.value) for r in letters}
    assert set(by_offset) == {1, 3}
    assert by_offset[1]["error_code"] == "invalid_json"
    assert base64.b64decode(by_offset[1]["original_value_b64"]) == b"{not json"
    assert by_offset[1]["original_topic"] == topic
    assert by_offset[1]["original_partition"] == 0
    assert by_offset[3]["error_code"] == "handler_error"
    assert "breaks the handler" in by_offset[3]["error_message"]
    applied = {r["event_id"] for r in await plumbing_db.fetch("SELECT event_id FROM applied WHERE topic = $1", topic)}
    assert applied == {f"{topic}-1", f"{topic}-2", f"{topic}-4"}
