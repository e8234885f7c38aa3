"""Event-time progress per input partition, the watermark derived from it, and events left deferred."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

# (topic, partition) → (latest event time read, or None before any; caught up with the log end)
Progress = Mapping[tuple[str, int], tuple[datetime | None, bool]]


async def record_progress(conn: Any, progress: Progress) -> dict[tuple[str, int], datetime | None]:
    """Record the batch's progress; returns each of those partitions' latest event time read so far."""
    if not progress:
        return {}
    keys = list(progress)
    rows = await conn.fetch(
        """INSERT INTO partition_clock (topic, partition, max_event_time, caught_up)
           SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::boolean[])
           ON CONFLICT (topic, partition) DO UPDATE
           SET max_event_time = GREATEST(partition_clock.max_event_time, excluded.max_event_time),
               caught_up = excluded.caught_up
           RETURNING topic, partition, max_event_time""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [progress[k][0] for k in keys],
        [progress[k][1] for k in keys],
    )
    return {(row["topic"], row["partition"]): row["max_event_time"] for row in rows}


async def stream_watermark(conn: Any, allowed_lateness: timedelta) -> datetime | None:
    """How far event time has surely got, less the allowed lateness; None while that is unknown.

    A partition still catching up (a backlog, a replay) may yet deliver anything after its
    latest event time, so the slowest of those bounds the watermark, and one that has not
    delivered anything yet holds it back entirely. Partitions that have delivered everything
    published so far do not hold it back: once all have, it is the latest event time seen.
    """
    mark = await conn.fetchval(
        """SELECT CASE WHEN bool_or(NOT caught_up AND max_event_time IS NULL) THEN NULL
                       ELSE COALESCE(min(max_event_time) FILTER (WHERE NOT caught_up), max(max_event_time)) END
           FROM partition_clock"""
    )
    return mark - allowed_lateness if mark is not None else None


async def note_handled(conn: Any, partitions: Collection[int], until: datetime) -> None:
    """Member-state partitions whose events are all published up to ``until`` (by an event batch)."""
    await conn.execute(
        """INSERT INTO state_progress (partition, handled_until)
           SELECT p, $2 FROM unnest($1::int[]) AS p
           ON CONFLICT (partition) DO UPDATE
           SET handled_until = GREATEST(state_progress.handled_until, excluded.handled_until)""",
        sorted(partitions),
        until,
    )


async def handled(conn: Any) -> dict[int, datetime]:
    """Per member-state partition, how far event batches have published it (committed ones only)."""
    rows = await conn.fetch("SELECT partition, handled_until FROM state_progress")
    return {row["partition"]: row["handled_until"] for row in rows}


async def release_all(conn: Any, partitions: Collection[int]) -> list[Any]:
    """Events an earlier version deferred on these partitions, removed from the table."""
    if not partitions:
        return []
    return list(
        await conn.fetch(
            """DELETE FROM deferred_events WHERE partition = ANY($1::int[])
               RETURNING topic, partition, "offset", at, payload""",
            sorted(partitions),
        )
    )
