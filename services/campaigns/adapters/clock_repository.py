"""The event-time clock: per input partition, how far it is complete, whichever replica owns it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any


async def record_complete(conn: Any, complete: Mapping[tuple[str, int], datetime | None]) -> None:
    """How far each owned partition is complete (``shared.kafka.alignment.completeness``); never backwards.

    ``max_event_time`` follows it: for a partition a batch read, completeness is at least as late
    as what was read, so one statement keeps both."""
    keys = sorted(k for k, until in complete.items() if until is not None)
    if not keys:
        return
    await conn.execute(
        """INSERT INTO partition_clock AS c (topic, partition, max_event_time, complete_until)
           SELECT u.topic, u.partition, u.until, u.until
           FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS u(topic, partition, until)
           ON CONFLICT (topic, partition) DO UPDATE
             SET complete_until = GREATEST(c.complete_until, EXCLUDED.complete_until),
                 max_event_time = GREATEST(c.max_event_time, EXCLUDED.max_event_time)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [complete[k] for k in keys],
    )


async def group_watermark(conn: Any, topics: Collection[str]) -> datetime | None:
    """How far every partition of ``topics`` is complete, whichever replica owns it; None while a
    partition's completeness is unknown (or none is known yet)."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        """SELECT CASE WHEN bool_or(complete_until IS NULL) THEN NULL ELSE min(complete_until) END
           FROM partition_clock WHERE topic = ANY($1::text[])""",
        sorted(topics),
    )
