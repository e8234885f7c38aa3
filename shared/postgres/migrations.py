"""A small migration runner: numbered plain-SQL files per service, applied in order and recorded.

Files are ``NNNN_description.sql`` in a service's ``migrations/`` folder. Each is applied in
its own transaction under an advisory lock (so replicas starting together do not race),
and recorded with its checksum in ``<schema>.schema_migrations``; an applied file that was
edited afterwards is an error, not silently ignored.

Written here rather than adopting a tool: the well-kept ones (alembic, yoyo) bring
SQLAlchemy or psycopg as a second driver, while this needs asyncpg and forty lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_FILE_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


# The table that records a service's own migrations (the plumbing keeps its own ledger).
SERVICE_LEDGER = "schema_migrations"


def discover(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake.sql")
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a number")
    return migrations


async def migrate(conn: asyncpg.Connection, schema: str, directory: Path, *, ledger: str = SERVICE_LEDGER) -> list[str]:
    """Apply pending migrations of ``directory`` to ``schema``; return the names applied.

    ``ledger`` names the table that records them, so the shared plumbing tables (inbox,
    outbox) keep their own numbering beside each service's migrations.
    """
    migrations = discover(directory)
    lock_key = int.from_bytes(hashlib.sha256(f"migrate:{schema}:{ledger}".encode()).digest()[:8], "big", signed=True)
    await conn.execute("SELECT pg_advisory_lock($1)", lock_key)
    try:
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {_ident(schema)}.{_ident(ledger)} (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch(f"SELECT version, name, checksum FROM {_ident(schema)}.{_ident(ledger)}")
        applied = {row["version"]: row for row in rows}
        done = []
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{schema}/{migration.name} changed after it was applied; add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(f"SET LOCAL search_path TO {_ident(schema)}")
                await conn.execute(migration.sql)
                await conn.execute(
                    f"INSERT INTO {_ident(schema)}.{_ident(ledger)} (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_key)


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise MigrationError(f"{name!r} is not a plain schema name")
    return name
