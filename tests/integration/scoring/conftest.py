"""Scoring as a real process on the test stack, started from a clean slate, fed canonical events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.scoring.adapters.member_repository import COLUMNS
from services.scoring.entrypoints.topology import CONSUMES
from shared.contracts import MemberEvent
from shared.kafka.admin import describe_partitions, move_group_to_end
from shared.settings import DEFAULT_HTTP_PORTS
from tests.stack import Stack
from tools.member_history import as_record
from tools.services import RunningService, spawn_service, stop_services, wait_ready

PORT_OFFSET = 2200
TOKEN = "scoring-test-management-token"
GROUP = "scoring"
# Events are published strictly in event-time order here, so no lateness needs allowing.
ALLOWED_LATENESS = timedelta(0)
# Everything scoring keeps, emptied between runs so each starts as a fresh deployment would.
TABLES = (
    "members",
    "transitions",
    "sales",
    "community_members",
    "community_activity",
    "partition_clock",
    "deferred_events",
    "model_params",
    "rfm_cuts",
    "inbox",
    "outbox",
)


def scoring_env(stack: Stack, **extra: str) -> dict[str, str]:
    return {
        **stack.env(),
        "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
        # A history in event time: only events move time, never the wall clock.
        "MP_SCORING_LIVE_CLOCK": "false",
        "MP_SCORING_ALLOWED_LATENESS_SECONDS": str(ALLOWED_LATENESS.total_seconds()),
        "MP_SCORING_SWEEP_INTERVAL_SECONDS": "0.2",
        "MP_SCORING_RFM_REFRESH_SECONDS": "0",
        "MP_SCORING_POLICY_RELOAD_SECONDS": "1",
        **extra,
    }


@dataclass
class ScoringRig:
    """Start, stop, reset and feed scoring; read its state back."""

    stack: Stack
    log_dir: Path
    producer: AIOKafkaProducer
    running: list[RunningService] = field(default_factory=list)

    @property
    def port(self) -> int:
        return DEFAULT_HTTP_PORTS["scoring"] + PORT_OFFSET

    @property
    def dsn(self) -> str:
        return self.stack.pg.dsn_for("scoring")

    def start(self, **env: str) -> RunningService:
        service = spawn_service("scoring", self.log_dir, scoring_env(self.stack, **env), self.port)
        self.running.append(service)
        wait_ready([service], 90.0)
        return service

    def stop(self) -> dict[str, int]:
        codes = stop_services([s for s in self.running if s.process.poll() is None])
        self.running.clear()
        return codes

    async def reset(self) -> None:
        """Empty scoring's tables and move its consumer group to the end of every input topic."""
        conn = await asyncpg.connect(self.dsn)
        try:
            # Sequences are kept: the relay recognises its own records in the topics by outbox id,
            # so ids must never repeat.
            await conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        finally:
            await conn.close()
        await move_group_to_end(self.stack.kafka.bootstrap_servers, GROUP, [t.name for t in CONSUMES])

    async def publish(self, events: Sequence[MemberEvent]) -> None:
        """Publish a backlog: everything at once, batched by the producer."""
        pending = []
        for event in events:
            record = as_record(event)
            pending.append(
                await self.producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
            )
        await asyncio.gather(*pending)

    async def publish_live(self, events: Sequence[MemberEvent]) -> None:
        """Publish as events happen: one by one, each acknowledged before the next occurs."""
        for event in events:
            record = as_record(event)
            await self.producer.send_and_wait(record.topic, record.value, key=record.key, headers=list(record.headers))

    async def lag(self) -> int:
        counts = await describe_partitions(self.stack.kafka.bootstrap_servers, [t.name for t in CONSUMES])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.stack.kafka.bootstrap_servers, group_id=GROUP, enable_auto_commit=False
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

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    async def settled(self) -> bool:
        """Input consumed, nobody due at the watermark, and the outbox published."""
        if await self.lag():
            return False
        [row] = await self.fetch(
            """SELECT
                 (SELECT count(*) FROM members WHERE next_review_at <= (
                    SELECT COALESCE((SELECT min(max_event_time) FROM partition_clock WHERE NOT caught_up),
                                    (SELECT max(max_event_time) FROM partition_clock)) - $1::interval)) AS due,
                 (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished""",
            ALLOWED_LATENESS,
        )
        return row["due"] == 0 and row["unpublished"] == 0

    async def wait_settled(self, timeout_s: float = 180.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await self.settled():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"scoring did not settle in {timeout_s:.0f}s")
            await asyncio.sleep(0.3)

    async def snapshot(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every member row and every transition, in a stable order, floats rounded for comparison."""
        members = await self.fetch(f"SELECT {', '.join(COLUMNS)} FROM members ORDER BY member_id")
        transitions = await self.fetch("SELECT * FROM transitions ORDER BY member_id, state_version")
        return [_comparable(r) for r in members], [_comparable(r) for r in transitions]


def _comparable(row: asyncpg.Record) -> tuple[Any, ...]:
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row.values())


@pytest.fixture
async def rig(bootstrapped: Stack, tmp_path: Path) -> AsyncIterator[ScoringRig]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrapped.kafka.bootstrap_servers, enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    rig = ScoringRig(bootstrapped, tmp_path, producer)
    rig.stop()
    await rig.reset()
    yield rig
    codes = rig.stop()
    await producer.stop()
    assert all(code == 0 for code in codes.values()), f"scoring must stop cleanly on SIGTERM: {codes}"
