"""Publish the chain's live history the way its upstream systems would (the backfill files: ``replay.py``).

- **Kafka**: the tills, the app and WeChat/WeCom archives publish their own bytes to ``raw.*.v1``,
  keyed by the person, so one person's records stay in order.
- **HTTP**: the web shop posts its orders to ingest's signed webhook, in small batches.

Live records go out in event-time order. A web-shop batch holds the orders between two Kafka
records (at most ``HTTP_BATCH``, spanning at most ``HTTP_BATCH_SPAN`` of event time) and is posted
before the next Kafka record, so nothing ingest reads is behind what came before it. Orders held
back any longer would reach ingest hours of event time late in a replay this fast, and where they
land would depend on timing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

import httpx
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from shared.contracts import SOURCE_FORMAT_HEADER
from shared.contracts.topics import RAW_CHAT
from shared.signing import signed_headers
from tools.demo.config import INGEST_WEBHOOK_SECRET, service_url
from tools.simulate import Route, SimRecord
from tools.upstream import TOPIC_OF

HTTP_BATCH = 200
HTTP_BATCH_SPAN = timedelta(hours=6)


class PublishError(RuntimeError):
    """An upstream path refused the demo's records: nothing more is published."""


class LivePublisher:
    """Kafka and the signed webhook, in event-time order; ``published`` counts what was handed over."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.published = 0
        self.by_route: Counter[str] = Counter()
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            max_batch_size=512 * 1024,
        )
        self._http = httpx.AsyncClient(base_url=service_url("ingest"), timeout=60.0)
        self._batch: list[SimRecord] = []

    async def __aenter__(self) -> LivePublisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._producer.stop()
        finally:
            await self._http.aclose()

    async def publish(self, records: Sequence[SimRecord], console: Console) -> None:
        columns = (
            TextColumn("  live: Kafka + webhook"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>7} rec/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        began = time.monotonic()
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("live", total=len(records), rate="-")
            for n, record in enumerate(records, 1):
                if record.route is Route.HTTP:
                    await self._add_to_batch(record)
                else:
                    # Orders waiting for the webhook go before anything newer, so what ingest reads
                    # is in event-time order whichever way it came.
                    await self._post_batch()
                    await self._send(record)
                if n % 2_000 == 0 or n == len(records):
                    rate = n / max(time.monotonic() - began, 1e-9)
                    bar.update(task, completed=n, rate=f"{rate:,.0f}")
                    # Hand the event loop to the producer's sender now and then.
                    await asyncio.sleep(0)
            await self._post_batch()
            await self._producer.flush()

    async def _send(self, record: SimRecord) -> None:
        topic = TOPIC_OF.get(record.source_format, RAW_CHAT.name)
        headers = [(SOURCE_FORMAT_HEADER, record.source_format.encode())]
        await self._producer.send(topic, record.body, key=record.key, headers=headers)
        self.published += 1
        self.by_route[Route.KAFKA.value] += 1

    async def _add_to_batch(self, record: SimRecord) -> None:
        if self._batch and (
            len(self._batch) >= HTTP_BATCH
            or record.source_format != self._batch[0].source_format
            or record.at - self._batch[0].at > HTTP_BATCH_SPAN
        ):
            await self._post_batch()
        self._batch.append(record)

    async def _post_signed(self, source: str, body: bytes) -> httpx.Response:
        headers = {
            **signed_headers(INGEST_WEBHOOK_SECRET.encode(), body, time.time()),
            "Content-Type": "application/json",
        }
        return await self._http.post(f"/v1/events/{source}", content=body, headers=headers)

    async def _post_batch(self) -> None:
        if not self._batch:
            return
        source = self._batch[0].source_format
        body = b"[" + b",".join(r.body for r in self._batch) + b"]"
        # Kafka records before this batch go out first, so the batch is not ahead of them.
        await self._producer.flush()
        answer = await self._post_signed(source, body)
        if answer.status_code == 409:
            # The shop re-sent an order it had just sent, within the same second: the same body
            # and timestamp make the same signature, which ingest refuses as a replay. A shop
            # retrying a second later signs anew, and ingest drops the order as a duplicate.
            await asyncio.sleep(1.0)
            answer = await self._post_signed(source, body)
        if answer.status_code != 202:
            raise PublishError(f"ingest answered {answer.status_code} to a {source} batch: {answer.text[:500]}")
        results = json.loads(answer.content)
        self.published += len(self._batch)
        self.by_route[Route.HTTP.value] += len(self._batch)
        self.by_route["http_rejected"] += int(results.get("rejected", 0))
        self._batch = []
