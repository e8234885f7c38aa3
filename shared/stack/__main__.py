"""``python -m shared.stack bootstrap``: provision roles and schemas, migrate, create topics.

Idempotent: safe to run on every ``make up`` and from several test sessions at once.
Reads the same ``MP_*`` settings as the services; per-service passwords may be set with
``MP_PG_PASSWORD_<SERVICE>`` (local default: ``<service>-dev-password``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from shared.contracts.topics import ALL_TOPICS
from shared.kafka.admin import ensure_topics
from shared.postgres.provision import ensure_database, ensure_service_roles, migrate_service
from shared.settings import SERVICE_NAMES, KafkaSettings, PostgresSettings, dev_password

REPO_ROOT = Path(__file__).resolve().parents[2]


def service_password(service: str) -> str:
    return os.environ.get(f"MP_PG_PASSWORD_{service.upper()}") or dev_password(service)


async def bootstrap(pg: PostgresSettings, kafka: KafkaSettings, *, quiet: bool = False) -> None:
    say = (lambda *_: None) if quiet else print
    started = time.perf_counter()
    if await ensure_database(pg.admin_dsn("postgres"), pg.database):
        say(f"postgres: created database {pg.database}")
    await ensure_service_roles(
        pg.admin_dsn(), pg.database, [(service, service_password(service)) for service in SERVICE_NAMES]
    )
    for service in SERVICE_NAMES:
        dsn = pg.model_copy(update={"user": service}).dsn_for(service, service_password(service))
        applied = await migrate_service(dsn, service, REPO_ROOT / "services" / service / "migrations")
        say(f"postgres: schema {service} migrated" + (f" ({len(applied)} applied)" if applied else " (up to date)"))
    created = await ensure_topics(kafka.bootstrap_servers, ALL_TOPICS)
    say(f"kafka: {len(ALL_TOPICS)} topics present ({len(created)} created)")
    say(f"bootstrap done in {time.perf_counter() - started:.1f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.stack", description=__doc__)
    parser.add_argument("command", choices=["bootstrap"])
    parser.parse_args(argv)
    asyncio.run(bootstrap(PostgresSettings(), KafkaSettings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
