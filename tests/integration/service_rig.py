"""What every service test rig does the same way: processes, a clean slate, lag, queries.

A rig runs one service as real processes on the test stack. Each service's conftest adds what
is its own: the environment it starts with, how it is fed, and when it has settled.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.contracts import MemberEvent, wrap
from shared.contracts.topics import TopicSpec, topic_for_contract
from shared.kafka.admin import describe_partitions, move_group_to_end
from shared.postgres.service_schema import empty_tables
from shared.settings import DEFAULT_HTTP_PORTS
from tests.stack import Stack
from tools.services import RunningService, spawn_service, stop_services, wait_ready


@dataclass
class ServiceRig:
    service: ClassVar[str]
    consumes: ClassVar[Sequence[TopicSpec]]
    # Ports away from the defaults, so a demo running beside the tests is not disturbed.
    port_offset: ClassVar[int]

    stack: Stack
    log_dir: Path
    producer: AIOKafkaProducer
    running: list[RunningService] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return self.stack.pg.dsn_for(self.service)

    def port(self, replica: int = 0) -> int:
        return DEFAULT_HTTP_PORTS[self.service] + self.port_offset + replica

    def spawn(self, env: dict[str, str], replicas: int = 1) -> list[RunningService]:
        """Start ``replicas`` processes with ``env`` and wait until each is ready."""
        started = [spawn_service(self.service, self.log_dir, env, self.port(r)) for r in range(replicas)]
        self.running += started
        wait_ready(started, 90.0)
        return started

    def stop(self) -> dict[str, int]:
        codes = stop_services([s for s in self.running if s.process.poll() is None])
        self.running.clear()
        return codes

    async def reset(self) -> None:
        """Empty the service's tables and move its consumer group to the end of every input topic."""
        conn = await asyncpg.connect(self.dsn)
        try:
            await empty_tables(conn, self.service)
        finally:
            await conn.close()
        await move_group_to_end(self.stack.kafka.bootstrap_servers, self.service, [t.name for t in self.consumes])

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def lag(self) -> int:
        """Input records the service's group has not committed yet."""
        counts = await describe_partitions(self.stack.kafka.bootstrap_servers, [t.name for t in self.consumes])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.stack.kafka.bootstrap_servers, group_id=self.service, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
            ends = await consumer.end_offsets(partitions)
            total = 0
            for tp in partitions:
                total += ends[tp] - (await consumer.committed(tp) or 0)
            return total
        finally:
            await consumer.stop()

    async def publish(self, events: Sequence[MemberEvent]) -> None:
        """Publish a backlog: everything at once, batched by the producer, each with a fresh event id."""
        pending = []
        for event in events:
            record = wrap(event, topic=topic_for_contract(type(event)).name, source="test", event_id=str(uuid.uuid4()))
            pending.append(
                await self.producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
            )
        await asyncio.gather(*pending)

    async def topic_ends(self, topic: str) -> dict[TopicPartition, int]:
        counts = await describe_partitions(self.stack.kafka.bootstrap_servers, [topic])
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        try:
            return dict(await consumer.end_offsets([TopicPartition(topic, p) for p in range(counts[topic])]))
        finally:
            await consumer.stop()

    async def read_since(self, topic: str, starts: dict[TopicPartition, int]) -> list[dict[str, Any]]:
        """Every record of ``topic`` from ``starts`` (a ``topic_ends`` taken earlier) to now, in order per
        partition: its JSON body plus its CloudEvent id as ``ce_id``."""
        ends = await self.topic_ends(topic)
        wanted = [tp for tp, end in ends.items() if end > starts.get(tp, 0)]
        if not wanted:
            return []
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka.bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        out: list[dict[str, Any]] = []
        try:
            consumer.assign(wanted)
            for tp in wanted:
                consumer.seek(tp, starts.get(tp, 0))
            remaining = set(wanted)
            while remaining:
                for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                    for record in records:
                        if record.offset < ends[tp]:
                            ce_id = dict(record.headers).get("ce_id", b"").decode()
                            out.append({**json.loads(record.value), "ce_id": ce_id})
                    if records and records[-1].offset >= ends[tp] - 1:
                        remaining.discard(tp)
        finally:
            await consumer.stop()
        return out
