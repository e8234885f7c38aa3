"""Which inputs make campaigns' event-time clock, and the watermark it gives timers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.contracts.topics import (
    MEMBER_CHAT,
    MEMBER_CONSENT,
    MEMBER_MERGED,
    MEMBER_PURCHASE,
    MEMBER_STATE,
    NOTIFICATION_STATUS,
)
from shared.kafka.records import Decoded

# The member stream, in event time: these are read in step and move the clock.
CLOCKED = (MEMBER_STATE, MEMBER_PURCHASE, MEMBER_CHAT, MEMBER_MERGED)
# The notifier's reports on what campaigns caused (delivery statuses, opt-outs) carry its wall
# clock, not the stream's event time. In a replay of last year they would say "now" and fire every
# timer at once, so they neither move the clock nor wait for it.
FEEDBACK = (MEMBER_CONSENT, NOTIFICATION_STATUS)
CLOCKED_TOPICS = tuple(spec.name for spec in CLOCKED)


def latest_per_partition(batch: Sequence[Decoded[Any]]) -> dict[tuple[str, int], datetime]:
    """The batch's latest event time per clocked partition."""
    positions: dict[tuple[str, int], datetime] = {}
    for item in batch:
        if item.event_time is None or item.record.topic not in CLOCKED_TOPICS:
            continue
        key = (item.record.topic, item.record.partition)
        positions[key] = max(item.event_time, positions.get(key, item.event_time))
    return positions
