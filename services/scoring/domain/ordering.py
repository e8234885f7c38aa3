"""Applying each member's events in event-time order, whatever order the partitions are read in.

A member's chat, community and purchase events sit in the same partition number of three
topics (same key, same partition count). While one of those partitions is behind (a replay,
a backlog), an event read from another may be newer than events still unread there; it waits
until every co-partition has caught up with it. When all are caught up (live traffic), every
event is applied at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

TopicPartition = tuple[str, int]


def safe_until(
    caught_up: Mapping[TopicPartition, bool], latest: Mapping[TopicPartition, datetime | None]
) -> dict[int, datetime]:
    """Per partition number: events up to this event time can be applied without skipping one.

    A partition that is behind bounds it by the latest event time read from it (the next one
    can be no older, as each partition is in event-time order); one that has read nothing yet
    while behind bounds it to the far past.
    """
    safe: dict[int, datetime] = {}
    for (topic, partition), done in caught_up.items():
        bound = FAR_FUTURE if done else (latest.get((topic, partition)) or FAR_PAST)
        safe[partition] = min(safe.get(partition, FAR_FUTURE), bound)
    return safe
