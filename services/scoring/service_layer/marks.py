"""Progress marks on member.state.v1: after each event batch, and after reviews when they wait for them.

A mark promises that everything up to its time is published before it (shared/kafka/progress.py).
An event batch can promise its own newest event time. The sweeper's reviews, though, trail the
stream by the allowed lateness, so a review can reach the topic after changes newer than it, and
campaigns would decide the moments between on a member who had, say, already gone silent.

With ``marks_await_reviews`` a mark never passes a review not made yet: the earliest
``next_review_at`` still pending, as the marking transaction sees it. A review another
transaction is making right now still shows as pending there, so it holds the mark back too.
Event batches record how far they have published each partition, and the sweeper moves the
marks on after its reviews, from what is committed, for every partition whoever owns it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from services.scoring.adapters import clock_repository, member_repository
from services.scoring.service_layer.changes import SOURCE
from shared.contracts import KafkaRecord
from shared.contracts.topics import MEMBER_STATE
from shared.kafka.progress import progress_marks

_JUST_BEFORE = timedelta(microseconds=1)


def _marks(partitions: Collection[int], until: datetime) -> list[KafkaRecord]:
    return progress_marks(MEMBER_STATE.name, MEMBER_STATE.partitions, partitions, until, SOURCE)


def _short_of(until: datetime, due: datetime | None) -> datetime:
    return min(until, due - _JUST_BEFORE) if due is not None else until


async def after_batch(
    conn: Any, partitions: Collection[int], until: datetime, *, await_reviews: bool
) -> list[KafkaRecord]:
    """The marks an event batch ends with, on the partitions it read: up to its newest event."""
    if not await_reviews:
        return _marks(partitions, until)
    await clock_repository.note_handled(conn, partitions, until)
    return _marks(partitions, _short_of(until, await member_repository.earliest_review(conn)))


async def after_reviews(conn: Any) -> list[KafkaRecord]:
    """The marks reviews let through: every partition as far as both its batches and the reviews got."""
    due = await member_repository.earliest_review(conn)
    return [
        mark
        for partition, until in sorted((await clock_repository.handled(conn)).items())
        for mark in _marks([partition], _short_of(until, due))
    ]
