"""Publishing a history to the raw topics, in order, as fast as the broker takes it or at a fixed rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from tools.simulate import SimRecord

# Every route goes through Kafka here: the webhook cannot take records while ingest is being killed,
# and what the chaos suite tests is what happens after a record is handed over.


class RawPublisher:
    """An idempotent producer to ``raw.*.v1``; notes when each good record was handed over (for latency)."""

    def __init__(self, bootstrap: str) -> None:
        self.published = 0
        self.sent_at_ms: dict[str, int] = {}
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, request_timeout_ms=60_000
        )

    async def __aenter__(self) -> RawPublisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def publish(self, records: Sequence[SimRecord], *, per_second: float | None = None) -> None:
        """Send ``records`` in order, at ``per_second`` good records a second when given, and wait for the acks."""
        began = time.monotonic()
        good = 0
        for record in records:
            if per_second and record.expect == "accepted":
                good += 1
                ahead = began + good / per_second - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            await self._producer.send(record.topic, record.body, key=record.key, headers=record.headers)
            if record.expect == "accepted":
                self.sent_at_ms[record.ref] = int(time.time() * 1000)
            self.published += 1
        await self._producer.flush()
