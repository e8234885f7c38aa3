"""A tiny test service ("plumbing_test") that exercises the shared consumer, inbox, outbox and relay.

It has its own role and schema like a real service, a handler that counts applications per
event id, and publishes one outbox record per applied event to ``<topic>.out``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.contracts.envelope import KafkaRecord
from shared.kafka.consumer import BatchConsumer
from shared.kafka.records import Decoded, RawRecord, Rejected, UnitOfWork
from shared.postgres.provision import ensure_service_roles, migrate_service
from shared.settings import KafkaSettings, PostgresSettings, dev_password

ROLE = "plumbing_test"
MIGRATIONS = Path(__file__).with_name("migrations")


async def provision(pg: PostgresSettings) -> str:
    await ensure_service_roles(pg.admin_dsn(), pg.database, [(ROLE, dev_password(ROLE))])
    dsn = pg.dsn_for(ROLE)
    await migrate_service(dsn, ROLE, MIGRATIONS)
    return dsn


def unique_topic(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:10]}"


async def create_topics(kafka: KafkaSettings, *names: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


async def produce(kafka: KafkaSettings, topic: str, values: Sequence[tuple[bytes, bytes]]) -> None:
    """Produce (key, value) pairs and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, key=key, value=value) for key, value in values]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def read_all(kafka: KafkaSettings, topic: str, expected_at_least: int, timeout_s: float = 30.0) -> list[Any]:
    """Every record of ``topic`` from the beginning, once at least ``expected_at_least`` arrived."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
            if len(records) >= expected_at_least and not batch:
                break
    finally:
        await consumer.stop()
    return records


def decode(record: RawRecord) -> Decoded[dict[str, Any]]:
    try:
        payload = json.loads(record.value or b"")
    except ValueError as exc:
        raise Rejected("invalid_json", str(exc)) from None
    if not isinstance(payload, dict) or "id" not in payload:
        raise Rejected("schema_violation", "no id")
    return Decoded(event_id=str(payload["id"]), payload=payload, record=record)


async def count_applications(uow: UnitOfWork, batch: Sequence[Decoded[dict[str, Any]]]) -> None:
    for item in batch:
        if item.payload.get("explode"):
            raise RuntimeError("this record breaks the handler")
        await uow.conn.execute(
            """INSERT INTO applied (event_id, topic, times_applied) VALUES ($1, $2, 1)
               ON CONFLICT (event_id) DO UPDATE SET times_applied = applied.times_applied + 1""",
            item.event_id,
            item.record.topic,
        )
        uow.publish(
            KafkaRecord(
                topic=f"{item.record.topic}.out",
                key=item.record.key,
                value=json.dumps({"id": item.event_id}).encode(),
                headers=(("ce_id", item.event_id.encode()),),
            )
        )


def event(event_id: str, **extra: Any) -> tuple[bytes, bytes]:
    return event_id.encode(), json.dumps({"id": event_id, **extra}).encode()


async def group_caught_up(kafka: KafkaSettings, group: str, topic: str, partitions: int = 3) -> bool:
    """True when ``group`` has committed the end offset of every partition of ``topic``."""
    from aiokafka import TopicPartition

    probe = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await probe.end_offsets(tps)
        committed = {tp: await probe.committed(tp) for tp in tps}
        return all(committed[tp] == ends[tp] for tp in tps)
    finally:
        await probe.stop()


def plumbing_consumer(
    kafka: KafkaSettings,
    pool: Any,
    topic: str,
    group: str,
    dlq: str,
    cls: type[BatchConsumer[Any]] = BatchConsumer,
    handler: Any = count_applications,
    **options: Any,
) -> BatchConsumer[Any]:
    """A consumer of ``topic`` for the plumbing_test service, counting applications per event."""
    return cls(
        service=ROLE,
        topics=[topic],
        group_id=group,
        decoder=decode,
        handler=handler,
        pool=pool,
        settings=kafka,
        dlq_topic=dlq,
        **options,
    )


@contextlib.asynccontextmanager
async def consuming(consumer: BatchConsumer[Any]) -> AsyncIterator[None]:
    """Run ``consumer`` in the background for the duration of the block, then stop it cleanly."""
    stop = asyncio.Event()
    await consumer.start()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await consumer.stop()


@dataclasses.dataclass(frozen=True)
class SeededTopic:
    topic: str
    group: str
    dlq: str
    ids: list[str]


async def seeded_topic(kafka: KafkaSettings, prefix: str, count: int, partitions: int = 3) -> SeededTopic:
    """A fresh input topic (with its DLQ and output topic) holding ``count`` events, and a fresh group."""
    topic, group = unique_topic(prefix), unique_topic("group")
    await create_topics(kafka, topic, f"{topic}.dlq", f"{topic}.out", partitions=partitions)
    ids = [f"{topic}-{n}" for n in range(count)]
    await produce(kafka, topic, [event(i) for i in ids])
    return SeededTopic(topic, group, f"{topic}.dlq", ids)
