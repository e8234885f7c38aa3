"""Scoring as a real process on the test stack, started from a clean slate, fed canonical events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from services.scoring.adapters.member_repository import COLUMNS
from services.scoring.entrypoints.topology import CONSUMES
from shared.contracts import MemberEvent
from tests.integration.service_rig import ServiceRig
from tests.stack import Stack
from tools.member_history import as_record
from tools.services import RunningService

PORT_OFFSET = 2200
TOKEN = "scoring-test-management-token"
# Events are published strictly in event-time order here, so no lateness needs allowing.
ALLOWED_LATENESS = timedelta(0)


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
        # The tests publish canonical events themselves, with no progress marks but where they say.
        "MP_KAFKA_FIRST_MARK_WAIT_MS": "0",
        **extra,
    }


class ScoringRig(ServiceRig):
    """Start, stop, reset and feed scoring; read its state back."""

    service = "scoring"
    consumes = CONSUMES
    port_offset = PORT_OFFSET

    def start(self, **env: str) -> RunningService:
        [service] = self.spawn(scoring_env(self.stack, **env))
        return service

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
        # Not recorded_at: when scoring made a change is the wall clock, different in every run.
        transitions = await self.fetch(
            """SELECT member_id, state_version, at, from_lifecycle, to_lifecycle, engagement_tier, value_tier, reasons
               FROM transitions ORDER BY member_id, state_version"""
        )
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
