"""asyncpg pool factory: one pool per service process, connected as the service's own role."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns round-trip as Python objects instead of strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What the pool runs on a released connection after asyncpg has ended any open transaction.

    asyncpg's default runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release: a round trip per batch for every consumer and relay, to undo session state nothing here
    leaves. Work goes through transactions and transaction-level locks; the one session-level
    advisory lock (migrations) is released explicitly, and the relay's lives on a connection of its
    own, outside the pool.
    """


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 5, **kwargs: Any) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=60,
        **kwargs,
    )
    if pool is None:  # asyncpg's stubs allow None; a created pool never is
        raise RuntimeError("asyncpg returned no pool")
    return pool
