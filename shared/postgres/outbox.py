"""The transactional outbox: records to publish are written in the same transaction as the state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import msgpack

from shared.contracts.envelope import KafkaRecord


async def append(conn: asyncpg.Connection, records: Sequence[KafkaRecord]) -> None:
    """Queue records for the relay; they are published only if the surrounding transaction commits.

    One statement over arrays, not a statement per row (``executemany``): a batch's hundreds of
    rows cost one executor run instead of hundreds. The ids follow the records' order, which the
    relay publishes in. Each record's headers are packed as MessagePack: one C call per record,
    where a JSON form needed a Python step per header.
    """
    if not records:
        return
    pack = msgpack.Packer().pack
    await conn.execute(
        """INSERT INTO outbox (topic, key, value, packed_headers)
           SELECT u.topic, u.key, u.value, u.headers
           FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::bytea[])
                WITH ORDINALITY AS u(topic, key, value, headers, n)
           ORDER BY u.n""",
        [r.topic for r in records],
        [r.key for r in records],
        [r.value for r in records],
        [pack(r.headers) for r in records],
    )


@dataclass(frozen=True)
class PendingRow:
    id: int
    record: KafkaRecord


async def fetch_unpublished(conn: asyncpg.Connection, limit: int) -> list[PendingRow]:
    rows = await conn.fetch(
        "SELECT id, topic, key, value, packed_headers, "
        "CASE WHEN packed_headers IS NULL THEN headers::text END AS headers FROM outbox "
        "WHERE published_at IS NULL ORDER BY id LIMIT $1",
        limit,
    )
    return [
        PendingRow(
            id=row["id"],
            record=KafkaRecord(
                topic=row["topic"],
                key=row["key"],
                value=row["value"],
                headers=unpack_headers(row["packed_headers"], row["headers"]),
            ),
        )
        for row in rows
    ]


def unpack_headers(packed: bytes | None, legacy_json: str | None) -> tuple[tuple[str, bytes], ...]:
    """A row's headers: packed (every row written since migration 0002) or the jsonb of older rows."""
    if packed is not None:
        headers: tuple[tuple[str, bytes], ...] = msgpack.unpackb(packed, use_list=False)
        return headers
    return tuple((name, value.encode()) for name, value in json.loads(legacy_json or "[]"))


async def mark_published(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", list(ids))


async def unpublished_topics(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT DISTINCT topic FROM outbox WHERE published_at IS NULL")
    return sorted(row["topic"] for row in rows)


async def mark_found_published(conn: asyncpg.Connection, ids: Sequence[int]) -> int:
    """Mark the still-unpublished rows among ``ids`` (found on their topics) as published."""
    if not ids:
        return 0
    status = await conn.execute(
        "UPDATE outbox SET published_at = now() WHERE published_at IS NULL AND id = ANY($1::bigint[])", list(ids)
    )
    return int(status.split()[-1])


async def backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unpublished rows and the age in seconds of the oldest one (0 when empty)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age "
        "FROM outbox WHERE published_at IS NULL"
    )
    assert row is not None
    return int(row["n"]), float(row["age"])


async def purge_published(conn: asyncpg.Connection, keep_seconds: float) -> int:
    status = await conn.execute(
        "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)", keep_seconds
    )
    return int(status.split()[-1])
