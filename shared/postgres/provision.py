"""Database provisioning, run once with admin rights: one role and one schema per service.

Each service role owns its schema and nothing else: PUBLIC loses its default rights on the
database and on ``public``, so a service cannot read or write another service's tables.
Then each schema is migrated *as its own role*, so every table it creates is owned by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import asyncpg

from shared.postgres.migrations import migrate

PLUMBING_MIGRATIONS = Path(__file__).with_name("sql")
PLUMBING_LEDGER = "plumbing_migrations"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def ensure_database(admin_dsn_to_postgres_db: str, database: str) -> bool:
    """Create ``database`` if missing; return True when it was created."""
    conn = await asyncpg.connect(admin_dsn_to_postgres_db)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        await conn.execute(f"CREATE DATABASE {quote_ident(database)} ENCODING 'UTF8' TEMPLATE template0")
        return True
    finally:
        await conn.close()


async def ensure_service_roles(admin_dsn: str, database: str, roles: Iterable[tuple[str, str]]) -> None:
    """Create or update (role, password) pairs, each with a schema of the same name it alone can use."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        async with conn.transaction():
            # Serialise concurrent bootstraps (tests and `make up` may race).
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('memberpulse.provision'))")
            await conn.execute(f"REVOKE ALL ON DATABASE {quote_ident(database)} FROM PUBLIC")
            await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            for role, password in roles:
                ident = quote_ident(role)
                if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                    await conn.execute(f"ALTER ROLE {ident} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
                else:
                    await conn.execute(f"CREATE ROLE {ident} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
                # Passwords cannot be bind parameters in DDL; format() quotes the literal safely.
                await conn.execute(
                    await conn.fetchval(
                        "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)", role, password
                    )
                )
                await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {quote_ident(database)} TO {ident}")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {ident} AUTHORIZATION {ident}")
                await conn.execute(f"ALTER SCHEMA {ident} OWNER TO {ident}")
                await conn.execute(f"REVOKE ALL ON SCHEMA {ident} FROM PUBLIC")
                await conn.execute(f"ALTER ROLE {ident} IN DATABASE {quote_ident(database)} SET search_path = {ident}")
    finally:
        await conn.close()


async def migrate_service(service_dsn: str, schema: str, migrations_dir: Path | None) -> list[str]:
    """Apply the plumbing tables, then the service's own migrations, connected as the service role."""
    conn = await asyncpg.connect(service_dsn)
    try:
        applied = await migrate(conn, schema, PLUMBING_MIGRATIONS, ledger=PLUMBING_LEDGER)
        if migrations_dir is not None and migrations_dir.is_dir():
            applied += await migrate(conn, schema, migrations_dir)
        return applied
    finally:
        await conn.close()
