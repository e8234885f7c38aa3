"""The outbox relay publishes exactly the committed rows, also after being killed mid-flight."""

from __future__ import annotations

import json
import signal

import pytest

from shared.contracts.envelope import KafkaRecord
from shared.postgres import outbox
from tests.integration.conftest import wait_for
from tests.integration.plumbing import create_topics, read_all, unique_topic


def _row(topic: str, event_id: str) -> KafkaRecord:
    return KafkaRecord(topic=topic, key=event_id.encode(), value=json.dumps({"id": event_id}).encode(), headers=())


async def test_relay_killed_between_publish_and_mark_publishes_each_row_exactly_once_and_leaks_no_rollback(
    bootstrapped, plumbing_db, spawn
):
    topic = unique_topic("relay")
    await create_topics(bootstrapped.kafka, topic)
    committed = [f"{topic}-c{n}" for n in range(250)]
    async with plumbing_db.transaction():
        await outbox.append(plumbing_db, [_row(topic, i) for i in committed])
    rolled_back = [f"{topic}-r{n}" for n in range(50)]
    with pytest.raises(RuntimeError):
        async with plumbing_db.transaction():
            await outbox.append(plumbing_db, [_row(topic, i) for i in rolled_back])
            raise RuntimeError("abort the transaction")

    env = {"MP_OUTBOX_BATCH_SIZE": "100"}
    doomed = spawn("tests.integration.procs.relay_proc", "--die-after-publish", env=env)
    assert doomed.wait(timeout=60) == -signal.SIGKILL
    unpublished = await plumbing_db.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = $1 AND published_at IS NULL", topic
    )
    assert unpublished == len(committed), "the killed relay published but never marked"

    relay = spawn("tests.integration.procs.relay_proc", env=env)

    async def drained() -> bool:
        return not await plumbing_db.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1 AND published_at IS NULL", topic
        )

    await wait_for(drained, what="outbox drained")
    relay.send_signal(signal.SIGTERM)
    assert relay.wait(timeout=30) == 0

    records = await read_all(bootstrapped.kafka, topic, expected_at_least=len(committed))
    published = [json.loads(r.value)["id"] for r in records]
    assert set(published) == set(committed)
    assert not set(published) & set(rolled_back)
    # The successor read the dead leader's batch back from the topic instead of re-sending it.
    assert len(published) == len(set(published)), "a row was published twice"


async def test_outbox_rows_keep_their_order_and_headers_byte_exact_and_rows_from_before_packing_still_read(plumbing_db):
    topic = unique_topic("headers")
    # Header values are bytes: a dead letter may carry an upstream's header that is not UTF-8.
    headers = (("ce_id", b"evt-1"), ("mp-origin-header", b"\xff\xfe not UTF-8"), ("empty", b""))
    transaction = plumbing_db.transaction()
    await transaction.start()
    try:
        # Two records in one call: the relay publishes rows in id order, which must be the records' order.
        await outbox.append(
            plumbing_db,
            [
                KafkaRecord(topic=topic, key=b"m-1", value=b"{}", headers=headers),
                KafkaRecord(topic=topic, key=b"m-0", value=b"{}", headers=()),
            ],
        )
        # A row as the outbox wrote it before migration 0002: headers as jsonb, nothing packed.
        await plumbing_db.execute(
            "INSERT INTO outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::text::jsonb)",
            topic,
            b"m-2",
            b"{}",
            json.dumps([["ce_id", "evt-0"], ["ce_subject", "m-2"]]),
        )
        pending = [
            row.record for row in await outbox.fetch_unpublished(plumbing_db, 100_000) if row.record.topic == topic
        ]
    finally:
        await transaction.rollback()
    assert [(record.key, record.headers) for record in pending] == [
        (b"m-1", headers),
        (b"m-0", ()),
        (b"m-2", (("ce_id", b"evt-0"), ("ce_subject", b"m-2"))),
    ]
