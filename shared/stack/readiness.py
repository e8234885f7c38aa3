"""Real readiness probes: Kafka must answer a metadata request, Postgres must run a query.

An open port is not enough: a broker accepts connections long before its controller
has elected itself, and Postgres accepts them while it is still recovering.

``python -m shared.stack.readiness kafka|postgres [--timeout S]`` exits 0 once ready.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from shared.settings import KafkaSettings, PostgresSettings


async def kafka_version(bootstrap_servers: str, timeout_s: float = 5.0) -> str:
    """Ask the broker for cluster metadata; return a short description of what answered."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout_s)
        brokers = cluster.get("brokers", [])
        return f"cluster {cluster.get('cluster_id')} with {len(brokers)} broker(s)"
    finally:
        await admin.close()


async def postgres_version(dsn: str, timeout_s: float = 5.0) -> str:
    conn = await asyncpg.connect(dsn, timeout=timeout_s)
    try:
        return str(await conn.fetchval("SELECT version()"))
    finally:
        await conn.close()


async def wait_until_ready(part: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if part == "kafka":
                return await kafka_version(KafkaSettings().bootstrap_servers)
            return await postgres_version(PostgresSettings().admin_dsn("postgres"))
        except Exception as exc:  # every failure means "not yet"; the last one is reported
            last_error = exc
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{part} not ready after {timeout_s:.0f}s: {last_error!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=["kafka", "postgres"])
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to keep trying")
    args = parser.parse_args(argv)
    # aiokafka logs every refused connection while we poll; the final error is what matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        print(asyncio.run(wait_until_ready(args.part, args.timeout)))
    except TimeoutError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
