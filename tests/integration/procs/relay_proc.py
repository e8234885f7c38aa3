"""The plumbing_test outbox relay in its own process.

``python -m tests.integration.procs.relay_proc [--die-after-publish]``: with the flag, the
process SIGKILLs itself after its first batch reached Kafka and before it was marked published.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from shared.kafka import relay as relay_module
from shared.kafka.producer import idempotent_producer
from shared.kafka.relay import OutboxRelay
from shared.postgres.pool import create_pool
from shared.settings import KafkaSettings, PostgresSettings, RelaySettings
from tests.integration.plumbing import ROLE


async def _die(*_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--die-after-publish", action="store_true")
    args = parser.parse_args()
    if args.die_after_publish:
        relay_module.outbox.mark_published = _die  # type: ignore[attr-defined]
    dsn = PostgresSettings().dsn_for(ROLE)
    pool = await create_pool(dsn)
    producer = idempotent_producer(KafkaSettings(), "relay-test")
    await producer.start()
    relay = OutboxRelay(
        service=ROLE, dsn=dsn, pool=pool, producer=producer, settings=RelaySettings(), kafka=KafkaSettings()
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("relay started", flush=True)
    await relay.run(stop)
    await producer.stop()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
