"""Putting a batch's events in event-time order: some wait for a co-partition that is behind.

See ``domain/ordering.py`` for the rule. Waiting events are kept in ``deferred_events`` in the
batch's own transaction (their inbox claim commits with them), and released by a later batch
once every co-partition has caught up with them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.scoring.adapters import clock_repository, metrics
from services.scoring.domain.ordering import FAR_FUTURE, safe_until
from shared.contracts import MemberChatV1, MemberCommunityV1, MemberEvent, MemberMergedV1, MemberPurchaseV1
from shared.contracts.topics import MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_MERGED, MEMBER_PURCHASE
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


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


async def in_event_time_order(uow: UnitOfWork, batch: Sequence[Decoded[MemberEvent]]) -> list[Arrival]:
    """This batch's events that may be applied now, with earlier ones released, oldest first."""
    conn = uow.conn
    read: dict[tuple[str, int], datetime | None] = {}
    arrivals = []
    for item in batch:
        key = (item.record.topic, item.record.partition)
        read[key] = _latest(read.get(key), item.payload.occurred_at)
        record = item.record
        arrivals.append(Arrival(record.topic, record.partition, record.offset, item.payload, record))
    # One statement records this batch's progress and returns every assigned partition's latest
    # event time (the bounds below need no other partitions').
    latest = await clock_repository.record_progress(
        conn, {key: (read.get(key), uow.progress.get(key, False)) for key in {*uow.progress, *read}}
    )
    safe = safe_until(uow.progress, latest)
    ready = [a for a in arrivals if a.event.occurred_at <= safe.get(a.partition, FAR_FUTURE)]
    waiting = [a for a in arrivals if a.event.occurred_at > safe.get(a.partition, FAR_FUTURE)]
    released_rows = await clock_repository.release(conn, safe)
    released = [_released(row) for row in released_rows]
    await clock_repository.defer(
        conn, [(a.topic, a.partition, a.offset, a.event.occurred_at, a.event.model_dump(mode="json")) for a in waiting]
    )
    metrics.DEFERRED.inc(len(waiting))
    for row in released_rows:
        metrics.DEFERRAL_WAIT.observe(row["waited_s"])
    return sorted([*ready, *released], key=lambda a: a.order)
