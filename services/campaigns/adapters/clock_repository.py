"""The event-time clock: the latest event time read per input partition."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any


async def advance(conn: Any, positions: Mapping[tuple[str, int], datetime], topics: Collection[str]) -> datetime | None:
    """Record the batch's latest event time per partition; return the latest over ``topics``' partitions
    (rows of other topics may be left from before the notifier's topics stopped moving the clock)."""
    keys = sorted(positions)
    return await conn.fetchval(  # type: ignore[no-any-return]
        """WITH moved AS (
               INSERT INTO partition_clock AS c (topic, partition, max_event_time)
               SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])
               ON CONFLICT (topic, partition) DO UPDATE
                 SET max_event_time = GREATEST(c.max_event_time, EXCLUDED.max_event_time)
               RETURNING max_event_time)
           SELECT GREATEST((SELECT max(max_event_time) FROM moved),
                           (SELECT max(max_event_time) FROM partition_clock WHERE topic = ANY($4::text[])))""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [positions[k] for k in keys],
        sorted(topics),
    )


async def latest(conn: Any, topics: Collection[str]) -> datetime | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT max(max_event_time) FROM partition_clock WHERE topic = ANY($1::text[])", sorted(topics)
    )
