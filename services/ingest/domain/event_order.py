"""Event time as ingest orders records by: when a parsed record happened, and merging in that order.

The raw consumer reads its partitions in step by this time (``shared/kafka/alignment.py``), and
a backfill of several files is published oldest event first across the files.

Each export is in event-time order on its own. Published one file after another, a raw topic
would carry several runs over the same months (every chat of the year, then every WeCom
message of the year), and the services that apply a member's events in event-time order would
meet events older than ones they had already applied. Merged, the topics carry the history as it
happened, as live delivery would have, and a replay decides what live would have decided.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import Ignored, Parsed, ReceiptDraft
from services.ingest.domain.purchases import local_to_utc

T = TypeVar("T")

_FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)


def event_time(record: Parsed | Ignored | None, zone_of: Callable[[str], str]) -> datetime | None:
    """When a parsed record happened, in UTC; None when it says nothing usable (invalid, ignored).

    A till receipt prints store-local time: ``zone_of(store_id)`` names the store's zone.
    """
    if not isinstance(record, Parsed):
        return None
    body = record.body
    if isinstance(body, ReceiptDraft):
        try:
            return local_to_utc(body.issued_local, zone_of(body.store_id))
        except InvalidRecord:
            return None
    return body.occurred_at


def merged_by_event_time(streams: Sequence[Iterable[tuple[datetime | None, T]]]) -> Iterator[T]:
    """The items of every stream, oldest first across streams, each stream's own order kept.

    An item is placed by the latest time its stream has shown up to it, so an item without a
    time (a bad record) stays right after the one before it, and a stream slightly out of order
    is not reordered. Ties go to the earlier stream: the same input always gives the same order.
    """

    def keyed(index: int, stream: Iterable[tuple[datetime | None, T]]) -> Iterator[tuple[datetime, int, int, T]]:
        latest = _FAR_PAST
        for position, (when, item) in enumerate(stream):
            if when is not None and when > latest:
                latest = when
            yield latest, index, position, item

    for _, _, _, item in heapq.merge(*(keyed(i, s) for i, s in enumerate(streams))):
        yield item
