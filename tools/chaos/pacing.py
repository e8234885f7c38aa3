"""Publishing a history the way its upstreams do, in order, as fast as ingest takes it or at a fixed rate.

Tills, the app and the chat archives publish to ``raw.*.v1``. The web shop posts its orders to
ingest's signed webhook, in batches, from a poster of its own that keeps going while replicas are
killed: like a real upstream it signs every attempt afresh and sends a batch again, to the other
replica, until one answers 202. A batch whose answer was lost in a kill is sent twice; ingest's
inbox must make that one delivery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from functools import partial

import httpx
from aiokafka import AIOKafkaProducer

from shared.signing import signed_headers
from tools.simulate import Route, SimRecord

HTTP_BATCH = 200
# Seconds between attempts at one batch: past the signature's one-second timestamp, so a re-sent
# batch is signed anew and not taken for a replay.
RETRY_PAUSE_S = 1.1
GIVE_UP_S = 600.0


class WebhookRefused(RuntimeError):
    """Ingest refused a batch for good (not a restart or an outage): the history itself is wrong."""


class WebhookPoster:
    """Posts batches of web-shop orders in order, one at a time, to whichever ingest replica answers."""

    def __init__(self, base_urls: Sequence[str], secret: bytes) -> None:
        self.base_urls = list(base_urls)
        self.secret = secret
        self.posted = 0
        self.retries = 0
        self._queue: asyncio.Queue[list[SimRecord] | None] = asyncio.Queue()
        self._http = httpx.AsyncClient(timeout=30.0)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def put(self, batch: list[SimRecord]) -> None:
        self._queue.put_nowait(batch)

    async def finish(self) -> None:
        """Wait until every batch handed over has been accepted."""
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
        await self._http.aclose()

    async def _run(self) -> None:
        while (batch := await self._queue.get()) is not None:
            await self._post(batch)

    async def _post(self, batch: list[SimRecord]) -> None:
        source = batch[0].source_format
        body = b"[" + b",".join(r.body for r in batch) + b"]"
        began, attempt = time.monotonic(), 0
        while True:
            url = f"{self.base_urls[attempt % len(self.base_urls)]}/v1/events/{source}"
            headers = {**signed_headers(self.secret, body, time.time()), "Content-Type": "application/json"}
            try:
                answer = await self._http.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 202:
                self.posted += len(batch)
                return
            if answer is not None and answer.status_code < 500 and answer.status_code not in (408, 429):
                raise WebhookRefused(f"ingest answered {answer.status_code} to a {source} batch: {answer.text[:300]}")
            if time.monotonic() - began > GIVE_UP_S:
                raise WebhookRefused(f"no ingest replica took a {source} batch within {GIVE_UP_S:.0f} s")
            attempt += 1
            self.retries += 1
            await asyncio.sleep(RETRY_PAUSE_S)


class RawPublisher:
    """Kafka for the tills and chats, the webhook poster for the web shop; notes when good records went out."""

    def __init__(self, bootstrap: str, webhook: WebhookPoster | None = None) -> None:
        self.published = 0
        self.sent_at_ms: dict[str, int] = {}
        # When Kafka acknowledged each good record (wall ms): how late the upstream itself was
        # with a record, after a broker restart say, as against how late ingest published it.
        self.acked_at_ms: dict[str, int] = {}
        self.webhook = webhook
        self._held: list[list[SimRecord]] = []
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, request_timeout_ms=60_000
        )

    async def __aenter__(self) -> RawPublisher:
        await self._producer.start()
        if self.webhook is not None:
            self.webhook.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.webhook is not None and exc[0] is None:
                await self.webhook.finish()
        finally:
            await self._producer.stop()

    async def publish(
        self, records: Sequence[SimRecord], *, per_second: float | None = None, hold_http: bool = False
    ) -> None:
        """Send ``records`` in order, at ``per_second`` good records a second when given; Kafka acks awaited.

        With ``hold_http`` the web shop's batches wait for ``release_http``: the chaos run releases
        them as a fault strikes, so that posts meet killed and paused replicas.
        """
        began = time.monotonic()
        good = 0
        batch: list[SimRecord] = []
        for record in records:
            if per_second and record.expect == "accepted":
                good += 1
                ahead = began + good / per_second - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            if record.route is Route.HTTP and self.webhook is not None:
                if batch and batch[0].source_format != record.source_format:
                    self._hand_over(batch, hold_http)
                    batch = []
                batch.append(record)
                if len(batch) >= HTTP_BATCH:
                    self._hand_over(batch, hold_http)
                    batch = []
            else:
                sent = await self._producer.send(record.topic, record.body, key=record.key, headers=record.headers)
                if record.expect == "accepted":
                    sent.add_done_callback(partial(self._note_ack, record.ref))
            if record.expect == "accepted":
                self.sent_at_ms[record.ref] = int(time.time() * 1000)
            self.published += 1
        if batch:
            self._hand_over(batch, hold_http)
        await self._producer.flush()

    def _note_ack(self, ref: str, sent: asyncio.Future[object]) -> None:
        if not sent.cancelled() and sent.exception() is None:
            self.acked_at_ms[ref] = int(time.time() * 1000)

    def release_http(self) -> None:
        for batch in self._held:
            self._hand_over(batch, hold=False)
        self._held = []

    def _hand_over(self, batch: list[SimRecord], hold: bool) -> None:
        if hold:
            self._held.append(batch)
        elif self.webhook is not None:
            self.webhook.put(batch)
