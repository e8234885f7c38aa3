"""The inbox: event ids a service has applied, so a redelivered event is skipped, not applied twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import asyncpg


async def claim(conn: asyncpg.Connection, event_ids: Sequence[str], topics: Sequence[str]) -> set[str]:
    """Record ``event_ids`` (each from the topic at the same index) as seen; return those that were new.

    Call it inside the batch transaction, so an id is recorded exactly when its effects commit.
    """
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (event_id, topic) SELECT * FROM unnest($1::text[], $2::text[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id",
        list(event_ids),
        list(topics),
    )
    return {row["event_id"] for row in rows}


async def purge_older_than(conn: asyncpg.Connection, age: timedelta) -> int:
    """Forget ids older than any redelivery could be (Kafka retention bounds it)."""
    status = await conn.execute("DELETE FROM inbox WHERE received_at < now() - $1::interval", age)
    return int(status.split()[-1])
