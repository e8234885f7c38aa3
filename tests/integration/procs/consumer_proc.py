"""A plumbing_test consumer in its own process, so a test can SIGKILL it at an exact point.

``python -m tests.integration.procs.consumer_proc TOPIC GROUP DLQ [--die-after-db-commit]``
With the flag, the process kills itself (SIGKILL) after its first batch's DB commit and
before the offset commit: the worst moment for duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from shared.kafka.consumer import BatchConsumer
from shared.postgres.pool import create_pool
from shared.settings import KafkaSettings, PostgresSettings
from tests.integration.plumbing import ROLE, plumbing_consumer


class DiesBeforeOffsetCommit(BatchConsumer[Any]):
    async def _commit(self, offsets: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("topic")
    parser.add_argument("group")
    parser.add_argument("dlq")
    parser.add_argument("--die-after-db-commit", action="store_true")
    args = parser.parse_args()
    pool = await create_pool(PostgresSettings().dsn_for(ROLE))
    cls = DiesBeforeOffsetCommit if args.die_after_db_commit else BatchConsumer
    consumer = plumbing_consumer(KafkaSettings(), pool, args.topic, args.group, args.dlq, cls)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await consumer.start()
    print("consumer started", flush=True)
    await consumer.run(stop)
    await consumer.stop()
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
