"""Scoring applies nothing past what every ingest replica has published: each one's marks speak for its own share."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.scoring.entrypoints.topology import CONSUMES
from shared.contracts import KafkaRecord
from shared.kafka.progress import progress_marks
from tests.integration.scoring.conftest import ScoringRig
from tests.unit.scoring import events as build
from tools.member_history import as_record

pytestmark = pytest.mark.integration

START = datetime(2025, 6, 2, tzinfo=UTC)
# Two ingest replicas, one raw partition each.
UNIVERSE = {"raw.chat.v1": 1, "raw.purchase.v1": 1}


def marks(origin: str, until: datetime) -> list[KafkaRecord]:
    """One replica's marks on every partition scoring reads: its share is published up to ``until``."""
    return [
        mark
        for topic in CONSUMES
        for mark in progress_marks(
            topic.name, topic.partitions, range(topic.partitions), until, "ingest", origins=[origin], universe=UNIVERSE
        )
    ]


async def send(rig: ScoringRig, records: list[KafkaRecord]) -> None:
    for record in records:
        await rig.producer.send_and_wait(record.topic, record.value, key=record.key, headers=list(record.headers))


async def member_known(rig: ScoringRig, member: str) -> bool:
    return bool(await rig.fetch("SELECT 1 FROM members WHERE member_id = $1", member))


async def test_an_event_waits_until_every_ingest_replica_has_marked_past_it(rig: ScoringRig) -> None:
    member = f"m_{uuid.uuid4().hex[:8]}"
    offset = (START - build.day(0)).days
    await asyncio.to_thread(rig.start)
    # Replica A has published its share up to day 30, replica B only up to day 0.
    await send(rig, marks("raw.chat.v1/0", build.day(offset + 30)) + marks("raw.purchase.v1/0", build.day(offset)))
    await send(rig, [as_record(build.purchase(offset + 10, member=member))])
    await asyncio.sleep(3.0)
    assert not await member_known(rig, member), "day 10 must wait: replica B may still publish something older"
    await send(rig, marks("raw.purchase.v1/0", build.day(offset + 30)))
    for _ in range(100):
        if await member_known(rig, member):
            break
        await asyncio.sleep(0.2)
    assert await member_known(rig, member), "once both replicas have marked past day 10, it is applied"


async def test_scoring_just_started_waits_for_the_marks_before_it_applies_a_partition(rig: ScoringRig) -> None:
    # A restarted replica reads from the committed offset, where two ingest replicas' records
    # interleave: A's day-12 purchase lies before B's older day-10 one in the member's partition.
    member = f"m_{uuid.uuid4().hex[:8]}"
    offset = (START - build.day(0)).days
    await asyncio.to_thread(rig.start, MP_KAFKA_FIRST_MARK_WAIT_MS="30000")
    await send(rig, [as_record(build.purchase(offset + 12, member=member))])
    await asyncio.sleep(3.0)
    assert not await member_known(rig, member), "day 12 must wait: no replica has said how far it got"
    await send(rig, [as_record(build.purchase(offset + 10, member=member))])
    await send(rig, marks("raw.chat.v1/0", build.day(offset + 30)) + marks("raw.purchase.v1/0", build.day(offset + 30)))
    for _ in range(100):
        if await member_known(rig, member):
            break
        await asyncio.sleep(0.2)
    first = await rig.fetch("SELECT at FROM transitions WHERE member_id = $1 ORDER BY state_version LIMIT 1", member)
    assert [row["at"] for row in first] == [build.day(offset + 10)], "the member is new from day 10, as it happened"
