"""The Postgres ceilings: asyncpg COPY and batched inserts into tables shaped as the services write them.

On the scratch copy of scoring's schema: scoring's member state (``members``, 31 columns, written
with the very upsert scoring runs, ``member_repository.save``) and the inbox every service claims
event ids in. COPY is one stream of every row; executemany is a transaction per batch of the
services' batch size, as a consumer commits.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.harness.model import Ceiling
from bench.ingest_throughput import new_run_id, progress
from bench.scoring.config import SWEEP_UNTIL
from bench.scoring.sweep import sweep_rows
from services.scoring.adapters import member_repository
from services.scoring.adapters.member_repository import COLUMNS, state_from_row

INBOX_COLUMNS = ("event_id", "topic")
INBOX_INSERT = "INSERT INTO inbox (event_id, topic) VALUES ($1, $2)"


def member_rows(count: int) -> list[tuple[Any, ...]]:
    """Scoring's member rows as its sweep bench makes them (``bench.scoring.sweep.sweep_rows``)."""
    return list(sweep_rows(f"m_{new_run_id()}_", count, SWEEP_UNTIL))


def inbox_rows(count: int) -> list[tuple[str, str]]:
    run = new_run_id()
    return [(f"{run}-{n:09d}", "member.purchase.v1") for n in range(count)]


async def _timed(label: str, work: Callable[[], Awaitable[None]]) -> float:
    began = time.perf_counter()
    await work()
    seconds = time.perf_counter() - began
    progress(f"ceilings: {label} in {seconds:.1f} s")
    return seconds


async def _batched(pool: Any, rows: list[Any], batch: int, write: Callable[[Any, list[Any]], Awaitable[None]]) -> None:
    async with pool.acquire() as conn:
        for start in range(0, len(rows), batch):
            async with conn.transaction():
                await write(conn, rows[start : start + batch])


async def postgres_ceilings(pool: Any, count: int, batch: int) -> list[Ceiling]:
    members, ids = member_rows(count), inbox_rows(count)
    states = [state_from_row(dict(zip(COLUMNS, row, strict=True))) for row in members]

    async def copy(table: str, rows: list[Any], columns: tuple[str, ...]) -> None:
        async with pool.acquire() as conn:
            await conn.copy_records_to_table(table, records=rows, columns=columns, timeout=600)

    async def truncate() -> None:
        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE members, inbox")

    async def save(conn: Any, chunk: list[Any]) -> None:
        await member_repository.save(conn, chunk)

    async def insert(conn: Any, chunk: list[Any]) -> None:
        await conn.executemany(INBOX_INSERT, chunk)

    measured = {
        "pg_copy_members": await _timed(f"COPY {count:,} member rows", lambda: copy("members", members, COLUMNS)),
        "pg_copy_inbox": await _timed(f"COPY {count:,} inbox rows", lambda: copy("inbox", ids, INBOX_COLUMNS)),
    }
    await truncate()
    measured["pg_upsert_members"] = await _timed(
        f"executemany member upserts, batches of {batch}", lambda: _batched(pool, states, batch, save)
    )
    measured["pg_insert_inbox"] = await _timed(
        f"executemany inbox inserts, batches of {batch}", lambda: _batched(pool, ids, batch, insert)
    )
    await truncate()
    labels = {
        "pg_copy_members": "Postgres: asyncpg COPY into scoring's members",
        "pg_copy_inbox": "Postgres: asyncpg COPY into an inbox",
        "pg_upsert_members": f"Postgres: executemany of scoring's member upsert, {batch} per transaction",
        "pg_insert_inbox": f"Postgres: executemany inbox INSERT, {batch} per transaction",
    }
    return [Ceiling(key, labels[key], count / s if s > 0 else None, "rows/s", count, s) for key, s in measured.items()]
