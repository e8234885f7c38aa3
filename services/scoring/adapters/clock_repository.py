"""Event-time progress per input partition, and the watermark derived from it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any


async def advance_partitions(conn: Any, latest: Mapping[tuple[str, int], datetime]) -> None:
    if not latest:
        return
    keys = list(latest)
    await conn.execute(
        """INSERT INTO partition_clock (topic, partition, max_event_time)
           SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])
           ON CONFLICT (topic, partition) DO UPDATE
           SET max_event_time = GREATEST(partition_clock.max_event_time, excluded.max_event_time)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [latest[k] for k in keys],
    )


async def stream_watermark(conn: Any, allowed_lateness: timedelta) -> datetime | None:
    """The slowest partition's latest event time, less the allowed lateness; None before any event.

    The minimum, not the maximum: a partition that is behind (a replay, a slow producer) still
    has events to deliver, and a sweep must not run ahead of them.
    """
    slowest = await conn.fetchval("SELECT min(max_event_time) FROM partition_clock")
    return slowest - allowed_lateness if slowest is not None else None
