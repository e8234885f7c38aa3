"""A batch's events as scoring applies them: oldest first, each with where it was read from.

The consumer reads scoring's partitions in step by event time (``event_time_order``, see
shared/kafka/alignment.py), so a batch holds every event up to its newest one, in order, and
nothing that waits for a partition still behind ever reaches the handler. The handler records
each partition's progress (the sweeper's watermark follows it).

Versions before that held such events back in ``deferred_events``; any still there are applied
with the next batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.scoring.adapters import clock_repository
from shared.contracts import MemberChatV1, MemberCommunityV1, MemberEvent, MemberMergedV1, MemberPurchaseV1
from shared.contracts.topics import MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_MERGED, MEMBER_PURCHASE
from shared.kafka.alignment import completeness, latest
from shared.kafka.records import Decoded, RawRecord, UnitOfWork

_CONTRACTS: dict[str, type[MemberEvent]] = {
    MEMBER_CHAT.name: MemberChatV1,
    MEMBER_COMMUNITY.name: MemberCommunityV1,
    MEMBER_PURCHASE.name: MemberPurchaseV1,
    MEMBER_MERGED.name: MemberMergedV1,
}


@dataclass
class StoredRecord:
    """A deferred event's origin, shaped like a consumed record so it can be dead-lettered like one."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None
    timestamp: int = 0
    headers: Any = ()


@dataclass(frozen=True)
class Arrival:
    """An event and where it was read from: the tie-break that makes the order total."""

    topic: str
    partition: int
    offset: int
    event: MemberEvent
    origin: RawRecord

    @property
    def order(self) -> tuple[datetime, str, int, int]:
        return (self.event.occurred_at, self.topic, self.partition, self.offset)


def _released(row: Any) -> Arrival:
    event = _CONTRACTS[row["topic"]].model_validate(row["payload"])
    origin = StoredRecord(
        row["topic"], row["partition"], row["offset"], json.dumps(row["payload"]).encode(), key=event.member_id.encode()
    )
    return Arrival(row["topic"], row["partition"], row["offset"], event, origin)


async def record_progress(uow: UnitOfWork, read: Mapping[tuple[str, int], datetime | None]) -> None:
    """Each partition's progress, for the sweeper's watermark (clock_repository.stream_watermark)."""
    await clock_repository.record_progress(uow.conn, partition_progress(uow.progress, read, uow.complete_until))


def partition_progress(
    owned: Iterable[tuple[str, int]], read: Mapping[tuple[str, int], datetime | None], complete: datetime | None
) -> dict[tuple[str, int], tuple[datetime | None, bool]]:
    """Per partition owned or read: (event time it is complete to, whether it counts as caught up).

    As ``completeness`` has it, and never caught up: a partition read to its end only looks
    finished (its replica may be paused while the others run on, or an ingest replica may not have
    published yet), and the sweeper must not review members past what may still come for them.
    """
    return {key: (until, False) for key, until in completeness(owned, read, complete).items()}


async def in_event_time_order(uow: UnitOfWork, batch: Sequence[Decoded[MemberEvent]]) -> list[Arrival]:
    """This batch's events, with any left deferred by an earlier version, oldest first."""
    read: dict[tuple[str, int], datetime | None] = {}
    arrivals = []
    for item in batch:
        record = item.record
        key = (record.topic, record.partition)
        read[key] = latest(read.get(key), item.payload.occurred_at)
        arrivals.append(Arrival(record.topic, record.partition, record.offset, item.payload, record))
    await record_progress(uow, read)
    leftovers = await clock_repository.release_all(uow.conn, {partition for _, partition in uow.progress})
    return sorted([*arrivals, *map(_released, leftovers)], key=lambda a: a.order)
