"""Watches a service's output topics and picks out the records one benchmark run caused.

Every canonical event ingest publishes carries the upstream event id in ``source_event_id``,
and the upstream ids of a run start with its run id, so a byte-level search on the record
value attributes each output to its input without decoding the envelope. Dead letters carry
the raw record's coordinates, which are matched against the offsets the run produced.
Other services' outputs are attributed the same way by another JSON field (``ref_field``):
scoring's state events by their ``member_id``, which embeds the run id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from bench.kafka_ops import Ranges
from shared.contracts.topics import INGEST_DLQ


@dataclass(frozen=True)
class DeadLetterSeen:
    topic: str
    partition: int
    offset: int
    code: str


class TopicWatcher:
    """Consumes topics from their end offsets at ``start`` on, in the background; a subclass takes each record.

    ``received`` maps each ref to when the bench first received it (``_now``, once per poll); a ref
    received again counts as a duplicate. Ingest's, scoring's and campaigns' benches watch this way.
    """

    def __init__(self, bootstrap: str, name: str, fetch_max_wait_ms: int) -> None:
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self._name = name
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_max_wait_ms
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self, partitions: Sequence[TopicPartition]) -> None:
        await self._consumer.start()
        self._consumer.assign(list(partitions))
        for tp, end in (await self._consumer.end_offsets(list(partitions))).items():
            self._consumer.seek(tp, end)
        self._task = asyncio.create_task(self._consume(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    def matched(self, refs: Iterable[str]) -> int:
        return sum(1 for ref in refs if ref in self.received)

    def _now(self) -> float:
        return time.perf_counter()

    def _take(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        raise NotImplementedError

    def _first(self, ref: str, now: float) -> bool:
        """Note ``ref`` received at ``now``; False, and one more duplicate, if it had been received before."""
        if ref in self.received:
            self.duplicates += 1
            return False
        self.received[ref] = now
        return True

    async def _consume(self) -> None:
        while True:
            polled = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now = self._now()
            for records in polled.values():
                for record in records:
                    self._take(record, now)


class OutputWatcher(TopicWatcher):
    """Consumes the output topics from their end offsets at ``start`` on, in the background."""

    def __init__(
        self,
        bootstrap: str,
        run: str,
        *,
        fetch_max_wait_ms: int = 100,
        ref_field: str = "source_event_id",
        dlq_topics: Collection[str] = (INGEST_DLQ.name,),
    ) -> None:
        super().__init__(bootstrap, f"watch-{run}", fetch_max_wait_ms)
        self.run = run
        self._dlq_topics = frozenset(dlq_topics)
        # POS ids are store-qualified ("store-sh-001:<receipt id>"): the ref is the part from the run id on.
        field = re.escape(ref_field.encode())
        self._pattern = re.compile(rb'"' + field + rb'":"[^"]*?(' + re.escape(run.encode()) + rb'[^"]*)"')
        # received: event ref -> time.perf_counter() when the bench received its output.
        # Kafka timestamps (ms, set by ingest's producer) of the first and last output of this run.
        self.first_ts_ms: int | None = None
        self.last_ts_ms: int | None = None
        self.dead_letters: list[DeadLetterSeen] = []

    def dead_in(self, ranges: Ranges) -> Counter[str]:
        """Dead-letter reasons for the raw records in ``ranges``."""
        codes: Counter[str] = Counter()
        for letter in self.dead_letters:
            start, end = ranges.get(TopicPartition(letter.topic, letter.partition), (0, 0))
            if start <= letter.offset < end:
                codes[letter.code] += 1
        return codes

    def _take(self, record: ConsumerRecord[bytes, bytes], now: float) -> None:
        value = record.value or b""
        if record.topic in self._dlq_topics:
            self._take_dead_letter(value)
            return
        found = self._pattern.search(value)
        if found is None:
            return
        if not self._first(found.group(1).decode(), now):
            return
        self.first_ts_ms = record.timestamp if self.first_ts_ms is None else min(self.first_ts_ms, record.timestamp)
        self.last_ts_ms = record.timestamp if self.last_ts_ms is None else max(self.last_ts_ms, record.timestamp)

    def _take_dead_letter(self, value: bytes) -> None:
        letter = json.loads(value)
        if letter.get("original_partition") is None or letter.get("original_offset") is None:
            return  # from the HTTP API, not from a raw topic
        self.dead_letters.append(
            DeadLetterSeen(
                letter["original_topic"], letter["original_partition"], letter["original_offset"], letter["error_code"]
            )
        )
