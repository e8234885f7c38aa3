"""A scratch copy of scoring's schema, made by scoring's own migrations, dropped whole afterwards.

The Postgres ceilings and the scale phase write millions of rows shaped exactly as scoring's
(``members``, ``inbox``, ``outbox``…) without touching scoring's tables: the copy is a schema of its
own, owned by the scoring role (so the service's code runs on it unchanged, through
``search_path``), and ``DROP SCHEMA … CASCADE`` leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest_throughput import progress
from shared.postgres.pool import create_pool
from shared.postgres.provision import migrate_service, quote_ident
from shared.settings import Settings

SCHEMA = "bench_scratch"
SERVICE = "scoring"
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / SERVICE / "migrations"


async def _as_admin(settings: Settings, *statements: str) -> None:
    conn = await asyncpg.connect(settings.pg.admin_dsn())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def drop_scratch(settings: Settings) -> None:
    await _as_admin(settings, f"DROP SCHEMA IF EXISTS {quote_ident(SCHEMA)} CASCADE")


@contextlib.asynccontextmanager
async def scratch_pool(settings: Settings, max_size: int = 2) -> AsyncIterator[Any]:
    """A pool on a fresh scratch copy of scoring's schema (left over copies are dropped first)."""
    await drop_scratch(settings)
    await _as_admin(settings, f"CREATE SCHEMA {quote_ident(SCHEMA)} AUTHORIZATION {quote_ident(SERVICE)}")
    try:
        dsn = settings.pg.dsn_for(SERVICE)
        await migrate_service(dsn, SCHEMA, MIGRATIONS)
        pool = await create_pool(dsn, min_size=1, max_size=max_size, server_settings={"search_path": SCHEMA})
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        progress(f"dropping the scratch schema {SCHEMA}…")
        await drop_scratch(settings)
