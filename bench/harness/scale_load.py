"""Bulk-loading scoring's ``members`` with millions of rows, server-side, and which of them are due.

One ``INSERT … SELECT … FROM generate_series`` per million rows: Postgres makes the rows itself, so
10,000,000 load in minutes with no client round trip per row. Every row is the sweep bench's
synthetic member (``bench.scoring.sweep.sweep_rows``: an active participant last heard from 70
days before W); a fixed number of them, spread evenly over the rows added, is due at W.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

from bench.ingest_throughput import progress
from bench.scoring.sweep import sweep_rows
from services.scoring.adapters.member_repository import COLUMNS

CHUNK = 1_000_000  # rows per statement (and transaction): progress is reported after each
ID_DIGITS = 9


def member_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:0{ID_DIGITS}d}"


def due_stride(start: int, end: int, due: int) -> int:
    """Every ``stride``-th row of [start, end) is due, ``due`` of them in all."""
    if due <= 0 or end - start < due:
        raise ValueError(f"cannot make {due} of {end - start} rows due")
    return (end - start) // due


def is_due(n: int, start: int, stride: int, due: int) -> bool:
    offset = n - start
    return offset % stride == 0 and offset // stride < due


def sample_not_due(start: int, end: int, due: int, count: int, rng: random.Random) -> list[int]:
    """``count`` distinct row numbers of [start, end), none of them due: members an event may touch."""
    stride = due_stride(start, end, due)
    if count > end - start - due:
        raise ValueError(f"only {end - start - due} rows are not due; {count} asked for")
    picked: set[int] = set()
    while len(picked) < count:
        n = rng.randrange(start, end)
        if not is_due(n, start, stride, due):
            picked.add(n)
    return sorted(picked, key=lambda _: rng.random())


async def column_types(conn: Any) -> dict[str, str]:
    rows = await conn.fetch(
        """SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
           WHERE attrelid = 'members'::regclass AND attnum > 0 AND NOT attisdropped"""
    )
    return {row["attname"]: row["type"] for row in rows}


def insert_statement(types: dict[str, str]) -> str:
    """Rows $1 (prefix) || n for n in [$2, $3); due as ``is_due`` with $4 start, $5 stride, $6 count: at $7,
    the others at $8; the other columns' values are $9 on."""
    exprs = []
    params = 8
    for column in COLUMNS:
        if column == "member_id":
            exprs.append(f"$1::text || lpad(n::text, {ID_DIGITS}, '0')")
        elif column == "next_review_at":
            offset = "(n - $4::bigint)"
            exprs.append(
                f"CASE WHEN {offset} % $5::bigint = 0 AND {offset} / $5::bigint < $6::bigint"
                " THEN $7::timestamptz ELSE $8::timestamptz END"
            )
        else:
            params += 1
            exprs.append(f"${params}::{types[column]}")
    return (
        f"INSERT INTO members ({', '.join(COLUMNS)}) SELECT {', '.join(exprs)}"  # noqa: S608 - our own column names
        " FROM generate_series($2::bigint, $3::bigint - 1) AS n"
    )


def template_values(prefix: str, until: datetime) -> list[Any]:
    """The sweep bench's synthetic member, in COLUMNS order, less member_id and next_review_at."""
    row = dict(zip(COLUMNS, next(sweep_rows(prefix, 1, until)), strict=True))
    return [row[c] for c in COLUMNS if c not in ("member_id", "next_review_at")]


async def load_members(conn: Any, prefix: str, start: int, end: int, due: int, until: datetime) -> float:
    """Rows [start, end) added (``due`` of them due at ``until``), then VACUUM ANALYZE; the seconds it took."""
    stride = due_stride(start, end, due)
    statement = insert_statement(await column_types(conn))
    values = template_values(prefix, until)
    due_at, later = until - timedelta(minutes=1), until + timedelta(days=30)
    began = time.perf_counter()
    bounds = list(range(start, end, CHUNK))
    for low, high in zip(bounds, [*bounds[1:], end], strict=True):
        await conn.execute(statement, prefix, low, high, start, stride, due, due_at, later, *values, timeout=3600)
        if end - start > CHUNK:
            progress(f"  scale: {high:,} members stored ({time.perf_counter() - began:.0f} s)")
    await conn.execute("VACUUM (ANALYZE) members", timeout=3600)
    return time.perf_counter() - began
