"""ingest's batch handler against its real schema: one transaction per batch, however the batch is mixed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.ingest.adapters.raw_records import ParserSettings, raw_decoder
from services.ingest.service_layer.handlers import IngestPolicy, canonical_publisher
from shared.kafka.records import UnitOfWork
from tests.stack import Stack
from tests.unit.fakes import FakeRecord
from tools import upstream as make

pytestmark = pytest.mark.integration


async def test_a_batch_with_many_events_per_member_and_order_applies_in_one_transaction(bootstrapped: Stack) -> None:
    run = uuid.uuid4().hex[:10]
    at = datetime.now(UTC) - timedelta(hours=1)
    records = [
        *(make.chat_json(run, n, 1, at + timedelta(seconds=n)) for n in range(5)),
        *(make.pos_receipt(run, n, 1, at + timedelta(minutes=n)) for n in range(10, 13)),
        make.ecom_order(run, 20, 2, at, version=1),
        make.ecom_order(run, 20, 2, at, version=2, status="partially_refunded", refund=True),
        *(make.wecom_message(run, n, 3, at + timedelta(seconds=n)) for n in range(30, 33)),
    ]
    decode = raw_decoder(ParserSettings(salt=b"batch-test"), lambda _: "UTC")
    batch = [
        decode(FakeRecord(topic=r.topic, offset=n, value=r.body, headers=r.headers)) for n, r in enumerate(records)
    ]
    conn = await asyncpg.connect(bootstrapped.pg.dsn_for("ingest"))
    try:
        transaction = conn.transaction()
        await transaction.start()
        uow = UnitOfWork(conn=conn)
        # Raises on any statement that cannot take a batch as a whole (the consumer would then
        # fall back to one transaction per record: correct, but a hundred times slower).
        await canonical_publisher(IngestPolicy())(uow, batch)
        await transaction.rollback()
    finally:
        await conn.close()
    assert uow.rejections == []
    topics = [record.topic for record in uow.outgoing]
    assert topics.count("member.chat.v1") == 8
    assert topics.count("member.purchase.v1") == 5, "3 receipts, 1 sale, 1 refund"
    # An app user, a card holder, a web-shop customer and a WeCom contact: nothing links them.
    assert len({record.key for record in uow.outgoing}) == 4
