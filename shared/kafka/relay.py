"""The outbox relay: publishes committed outbox rows, then marks them published.

Publish-then-mark, because the opposite order could lose rows. A crash between the two would
re-publish the last batch, so each new leader first reads the topics' tails back and marks
the rows that already made it (see ``readback``): every row reaches its topic exactly once.

Only one relay per service publishes at a time (a session-level advisory lock), because two
relays racing over the same rows could reorder one member's events across batches. The
others wait as hot standbys and take over when the leader's connection goes away.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.contracts.envelope import KafkaRecord
from shared.kafka.producer import send_all
from shared.kafka.readback import outbox_header, outbox_ids_in_tails
from shared.observability import metrics
from shared.observability.logging import get_logger
from shared.postgres import inbox, outbox
from shared.settings import KafkaSettings, RelaySettings
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


def _lock_key(service: str) -> int:
    return int.from_bytes(hashlib.sha256(f"outbox-relay:{service}".encode()).digest()[:8], "big", signed=True)


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        dsn: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        settings: RelaySettings,
        kafka: KafkaSettings | None = None,
    ) -> None:
        self.service = service
        self._dsn = dsn
        self._pool = pool
        self._producer = producer
        self._settings = settings
        self._kafka = kafka or KafkaSettings()
        self.is_leader = False
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._lead(stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError, TimeoutError) as exc:
                self.is_leader = False
                log.warning("outbox relay interrupted; retrying", error=repr(exc))
                await sleep_or_stop(stop, 1.0)

    async def _lead(self, stop: asyncio.Event) -> None:
        lock_conn = await asyncpg.connect(self._dsn)
        try:
            while not stop.is_set():
                if await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", _lock_key(self.service)):
                    break
                await sleep_or_stop(stop, 1.0)
            else:
                return
            self.is_leader = True
            await self.reconcile()
            last_housekeeping = 0.0
            while not stop.is_set():
                published = await self.publish_once()
                if time.monotonic() - last_housekeeping > 5.0:
                    await self._housekeeping()
                    last_housekeeping = time.monotonic()
                # Pause only when there was nothing to send: pausing after every short batch capped
                # steady traffic at about one batch per idle interval (found by scoring's latency bench).
                if published == 0:
                    await sleep_or_stop(stop, self._settings.idle_poll_seconds)
                # The lock lives with this connection; if Postgres dropped it, stop leading.
                if lock_conn.is_closed():
                    raise ConnectionError("lost the relay's lock connection")
        finally:
            self.is_leader = False
            await lock_conn.close()

    async def publish_once(self) -> int:
        """Publish one batch of unpublished rows; return how many were published."""
        async with self._pool.acquire() as conn:
            rows = await outbox.fetch_unpublished(conn, self._settings.batch_size)
            if not rows:
                return 0
            await send_all(self._producer, [self._stamped(row.id, row.record) for row in rows])
            await outbox.mark_published(conn, [row.id for row in rows])
        for row in rows:
            metrics.OUTBOX_PUBLISHED.labels(self.service, row.record.topic).inc()
        self.published += len(rows)
        return len(rows)

    async def reconcile(self) -> int:
        """Mark the unmarked rows a previous leader published before it died; return how many."""
        async with self._pool.acquire() as conn:
            topics = await outbox.unpublished_topics(conn)
            if not topics:
                return 0
            # The dead leader's batch is at most batch_size rows, all at the very end of their partitions.
            found = await outbox_ids_in_tails(self._kafka, topics, self.service, self._settings.batch_size)
            marked = await outbox.mark_found_published(conn, sorted(found))
        if marked:
            log.info("outbox rows found already published; marked, not re-sent", rows=marked)
        return marked

    def _stamped(self, row_id: int, record: KafkaRecord) -> KafkaRecord:
        return KafkaRecord(
            topic=record.topic,
            key=record.key,
            value=record.value,
            headers=(*record.headers, outbox_header(self.service, row_id)),
        )

    async def _housekeeping(self) -> None:
        async with self._pool.acquire() as conn:
            backlog, oldest_age = await outbox.backlog(conn)
            await outbox.purge_published(conn, self._settings.keep_published_seconds)
            # The relay leader is the one process per service, so it also keeps the inbox bounded.
            await inbox.purge_older_than(conn, timedelta(days=self._settings.inbox_retention_days))
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(oldest_age)
