"""Working on one service's schema from outside the running service: CLI commands, tests, benchmarks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from shared.postgres.migrations import SERVICE_LEDGER
from shared.postgres.pool import create_pool
from shared.postgres.provision import PLUMBING_LEDGER, migrate_service, quote_ident
from shared.settings import Settings

T = TypeVar("T")


def in_one_transaction(service: str, migrations: Path, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on ``service``'s schema, migrated first: all or nothing.

    For CLI commands, which may run before the service ever started on this database.
    """

    async def run() -> T:
        dsn = Settings().pg.dsn_for(service)
        await migrate_service(dsn, service, migrations)
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        finally:
            await pool.close()

    return asyncio.run(run())


async def empty_tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    """Empty every table of ``schema`` but the migration ledgers, as a fresh deployment has them.

    The table list comes from the catalog, so a table a migration adds is emptied too. Sequences
    are kept: the outbox relay recognises its own records in the topics by outbox id, so ids
    must never repeat.
    """
    rows = await conn.fetch(
        """SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> ALL($2::text[])
           ORDER BY tablename""",
        schema,
        [SERVICE_LEDGER, PLUMBING_LEDGER],
    )
    tables = [row["tablename"] for row in rows]
    if tables:
        await conn.execute(f"TRUNCATE {', '.join(f'{quote_ident(schema)}.{quote_ident(t)}' for t in tables)}")
    return tables
