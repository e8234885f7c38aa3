"""Batch consumption with effectively-once effects.

For each ``getmany`` batch: decode every record (bad input becomes a dead letter, never an
exception that stalls the partition), then in ONE Postgres transaction claim the event ids
in the inbox (duplicates are skipped), let the service apply the fresh ones and queue its
output in the outbox, write the dead letters to the outbox too; only after that commit are
the Kafka offsets committed. A crash anywhere replays the batch, and the inbox absorbs it.

Why aiokafka and not FastStream's batch subscriber (0.7): its default ack policy commits
before processing (at-most-once), ``ACK`` commits after errors too, a batch ``nack()``
rewinds only one partition, and it offers no hook to hold a rebalance until the in-flight
batch has committed. Here the consumer owns all of that explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from shared.contracts.envelope import KafkaRecord
from shared.kafka.alignment import FAR_PAST, EventTimeAligner, latest
from shared.kafka.progress import Mark, is_progress_mark, origin_name, progress_marks, read_mark
from shared.kafka.records import (
    Decoded,
    Decoder,
    RawRecord,
    Rejected,
    Rejection,
    RetryBatch,
    UnitOfWork,
    dead_letter,
)
from shared.observability import metrics
from shared.observability.logging import event_context, get_logger
from shared.postgres import inbox, outbox
from shared.settings import KafkaSettings

T = TypeVar("T")
Handler = Callable[[UnitOfWork, Sequence[Decoded[T]]], Awaitable[None]]

# Errors that say "try again later", not "this input is bad": the partition waits for them.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    ConnectionError,
    OSError,
    TimeoutError,
    RetryBatch,
)

log = get_logger(__name__)


def by_topic(decoders: Mapping[str, Decoder[T]]) -> Decoder[T]:
    """One decoder for a consumer of several topics, dispatching on the record's topic."""

    def decode(record: RawRecord) -> Decoded[T]:
        decoder = decoders.get(record.topic)
        if decoder is None:
            raise Rejected("unexpected_topic", f"no decoder for topic {record.topic}")
        return decoder(record)

    return decode


class BatchConsumer(Generic[T]):
    def __init__(
        self,
        *,
        service: str,
        topics: Sequence[str],
        group_id: str,
        decoder: Decoder[T],
        handler: Handler[T],
        pool: asyncpg.Pool,
        settings: KafkaSettings,
        dlq_topic: str,
        co_partitioned: bool = False,
        event_time_order: bool = False,
        aligned_batch_records: int | None = None,
        feedback_topics: Collection[str] = (),
        marked_topics: Collection[str] = (),
        marks_to: Mapping[str, int] | None = None,
        on_progress: Callable[[UnitOfWork], Awaitable[None]] | None = None,
        max_attempts: int = 5,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.service = service
        self.topics = list(topics)
        self.group_id = group_id
        self._decoder = decoder
        self._handler = handler
        self._pool = pool
        self._settings = settings
        self._dlq_topic = dlq_topic
        # Range assignment gives one consumer partition p of every topic (same key, same partition
        # count): what a handler keeping one member's events in order across topics relies on.
        # aiokafka's default, round robin, would spread them over replicas.
        self._assignors = (RangePartitionAssignor,) if co_partitioned else (RoundRobinPartitionAssignor,)
        # Read every partition in step by event time, and hand the handler each batch oldest
        # first (see alignment.py): for a consumer whose output order downstream relies on.
        self._aligner: EventTimeAligner[TopicPartition, Decoded[T] | Rejection | ProgressMark] | None = None
        if event_time_order:
            # Records already in memory may go to the handler in batches bigger than a fetch
            # (``aligned_batch_records``) where the handler's fixed cost per batch dominates.
            batch = aligned_batch_records or settings.max_batch_records
            marked = frozenset(marked_topics)
            self._aligner = EventTimeAligner(
                _offset_of,
                _event_time_of,
                max_ready=batch,
                mark_of=_mark_of,
                family=_topic_of,
                # A partition of these waits for its first mark when this consumer has seen none of its topic's.
                awaits_marks=lambda tp: tp.topic in marked,
                first_mark_wait_s=settings.first_mark_wait_ms / 1000,
                max_idle_s=settings.max_idle_ms / 1000,
                mark_idle_s=settings.mark_idle_ms / 1000,
                waited=lambda: self._waited_s,
            )
        # Topics (name → partition count) this consumer's output goes to, on whose every partition
        # it writes progress marks for its own input partitions (progress.py): a consumer
        # downstream then knows when this replica's share of the input is complete up to a time.
        self._marks_to = dict(marks_to or {})
        self._mark_every_s = settings.progress_mark_interval_ms / 1000
        self._complete_until: datetime | None = None  # what the next marks may promise
        self._marked_until: datetime | None = None  # what the last committed marks promised
        self._marked_at = 0.0
        # Told, in a transaction of its own, when the input is complete further than the last batch
        # showed with nothing to apply (only marks came, or a partition caught up): scoring moves
        # its sweeper's watermark and its own marks on with it.
        self._on_progress = on_progress
        self._progress_until: datetime | None = None  # how far the last batch or progress call went
        self._progress_at = 0.0
        # Topics that report back on what this consumer caused (delivery statuses, opt-outs): their
        # times are another service's wall clock, not the stream's event time, so they neither wait
        # nor hold anything back.
        self._feedback_topics = frozenset(feedback_topics)
        self._fetched_until: dict[TopicPartition, int] = {}
        self._more_ready = False
        # Time spent waiting in polls: how long a partition behind has really delivered nothing
        # (alignment.py), as opposed to time spent applying batches.
        self._waited_s = 0.0
        self._max_attempts = max_attempts
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._batch_lock = asyncio.Lock()
        self._committed: dict[TopicPartition, int] = {}
        self._progress: dict[tuple[str, int], bool] = {}
        self._last_lag_update = 0.0
        self._consumer: AIOKafkaConsumer | None = None
        self.running = False
        # Monotonic time of the last poll that brought records: how long the input has been quiet.
        self.last_records_at = time.monotonic()
        # Called once a batch's transaction has committed: lets a worker that reads what the
        # batch wrote (e.g. a dispatcher of queued sends) look at once instead of at its next poll.
        self.after_commit: Callable[[], None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.bootstrap_servers,
            group_id=self.group_id,
            client_id=f"{self._settings.client_id_prefix}-{self.service}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self._settings.session_timeout_ms,
            heartbeat_interval_ms=self._settings.heartbeat_interval_ms,
            max_poll_interval_ms=self._settings.max_poll_interval_ms,
            partition_assignment_strategy=self._assignors,
        )
        self._consumer.subscribe(self.topics, listener=_HoldRebalanceForBatch(self))
        await self._consumer.start()
        self.running = True

    async def stop(self) -> None:
        """Leave the group. Called after ``run`` returned, so no batch is half-applied."""
        self.running = False
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the batch in flight then finishes or is abandoned whole."""
        consumer = self._require_consumer()
        while not stop.is_set():
            # With a batch's worth already due in memory, only look for what has arrived: no wait.
            # (Only while something is held: a poll with no wait never yields to the event loop,
            # so polling that way with nothing to apply would starve every other task.)
            held = self._aligner is not None and self._aligner.has_waiting()
            timeout_ms = 0 if self._more_ready and held else self._settings.poll_timeout_ms
            polling = time.monotonic()
            polled = await consumer.getmany(timeout_ms=timeout_ms, max_records=self._settings.max_batch_records)
            polled_at = time.monotonic()
            self._waited_s += polled_at - polling
            if polled:
                self.last_records_at = polled_at
            # Records waiting for event time may be due with nothing new read: a partition caught up.
            if polled or held:
                async with self._batch_lock:
                    await self._process(polled, stop)
            if self._marks_to or self._on_progress is not None:
                await self._write_progress()
            await self._update_lag()

    # -- one batch -----------------------------------------------------------------------------

    async def _process(self, polled: Mapping[TopicPartition, Sequence[Any]], stop: asyncio.Event) -> None:
        started = time.perf_counter()
        records = [record for batch in polled.values() for record in batch]
        self._progress = await self._partition_progress(polled)
        decoded, rejections, marks = self._decode(records)
        commit = {tp: batch[-1].offset + 1 for tp, batch in polled.items()}
        if self._aligner is not None:
            decoded, rejections, commit = self._in_event_time_order(self._aligner, polled, decoded, rejections, marks)
            if not decoded and not rejections:
                # Everything read waits for event time, or was a progress mark: move past the marks
                # (up to the first waiting record), or a partition ending in one would show lag for ever.
                advanced = {tp: offset for tp, offset in commit.items() if offset > self._committed.get(tp, -1)}
                if advanced:
                    await self._commit(advanced)
                return
        elif not decoded and not rejections:
            await self._commit(commit)  # only progress marks: nothing to apply
            return
        attempt = 0
        while True:
            try:
                await self._apply_isolating_failures(decoded, rejections)
                if self.after_commit is not None:
                    self.after_commit()
                break
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                metrics.RETRIES.labels(self.service).inc()
                if attempt >= self._max_attempts or stop.is_set():
                    # Give the batch back: it is fetched again after a pause, so the partition
                    # waits for the dependency instead of skipping ahead. Nothing was committed.
                    log.error("batch failed on a transient error; will refetch", attempts=attempt, error=repr(exc))
                    consumer = self._require_consumer()
                    rewind = {tp: batch[0].offset for tp, batch in polled.items()}
                    self._complete_until = None  # what was promised is read again
                    if self._aligner is not None:
                        rewind = self._rewind_aligned(self._aligner, decoded, rejections)
                    for tp, offset in rewind.items():
                        consumer.seek(tp, offset)
                    if not stop.is_set():
                        await asyncio.sleep(self._backoff_max_s)
                    return
                delay = min(self._backoff_max_s, self._backoff_initial_s * 2 ** (attempt - 1))
                log.warning("transient error, retrying batch", attempt=attempt, delay_s=delay, error=repr(exc))
                await asyncio.sleep(delay)
        await self._commit(commit)
        metrics.BATCH_SIZE.labels(self.service).observe(len(decoded) + len(rejections))
        metrics.BATCH_DURATION.labels(self.service).observe(time.perf_counter() - started)
        self._observe_delays(decoded)

    def _in_event_time_order(
        self,
        aligner: EventTimeAligner[TopicPartition, Decoded[T] | Rejection | ProgressMark],
        polled: Mapping[TopicPartition, Sequence[Any]],
        decoded: Sequence[Decoded[T]],
        rejections: Sequence[Rejection],
        marks: Sequence[ProgressMark],
    ) -> tuple[list[Decoded[T]], list[Rejection], dict[TopicPartition, int]]:
        """The records, of this poll or earlier ones, that may be applied now (oldest first), and the
        offsets that may be committed after them: up to each partition's first waiting record."""
        for tp, batch in polled.items():
            self._fetched_until[tp] = batch[-1].offset + 1
        # Every partition read, also those with nothing yet: the aligner's max_idle waits for them too.
        by_partition: dict[TopicPartition, list[Decoded[T] | Rejection | ProgressMark]] = {
            TopicPartition(topic, partition): []
            for topic, partition in self._progress
            if topic not in self._feedback_topics
        }
        by_partition.update({tp: [] for tp in polled if tp.topic not in self._feedback_topics})
        feedback: list[Decoded[T] | Rejection | ProgressMark] = []
        items: list[Decoded[T] | Rejection | ProgressMark] = [*decoded, *rejections, *marks]
        for item in sorted(items, key=_offset_of):
            if item.record.topic in self._feedback_topics:
                if not isinstance(item, ProgressMark):
                    feedback.append(item)
            else:
                by_partition[TopicPartition(item.record.topic, item.record.partition)].append(item)
        behind = {tp for tp in self._behind() if tp.topic not in self._feedback_topics}
        step = aligner.step(by_partition, behind)
        self._complete_until = aligner.complete_until(behind)
        metrics.RECORDS_WAITING.labels(self.service).set(aligner.held())
        self._more_ready = step.more_ready
        step.ready[:0] = feedback
        consumer = self._require_consumer()
        if step.pause:
            consumer.pause(*step.pause)
        if step.resume:
            consumer.resume(*step.resume)
        for tp in step.waiting_from:
            self._progress[tp.topic, tp.partition] = False
        touched = {*polled, *(TopicPartition(i.record.topic, i.record.partition) for i in step.ready)}
        commit = {tp: step.waiting_from.get(tp, self._fetched_until[tp]) for tp in touched}
        ready = [item for item in step.ready if isinstance(item, Decoded)]
        return ready, [item for item in step.ready if isinstance(item, Rejection)], commit

    def _rewind_aligned(
        self,
        aligner: EventTimeAligner[TopicPartition, Decoded[T] | Rejection | ProgressMark],
        decoded: Sequence[Decoded[T]],
        rejections: Sequence[Rejection],
    ) -> dict[TopicPartition, int]:
        """Where to read again from when a batch is given back: its records and the waiting ones."""
        rewind = aligner.waiting()
        items: list[Decoded[T] | Rejection] = [*decoded, *rejections]
        for item in items:
            tp = TopicPartition(item.record.topic, item.record.partition)
            rewind[tp] = min(item.record.offset, rewind.get(tp, item.record.offset))
        aligner.rewind(list(rewind))
        self._more_ready = False
        self._require_consumer().resume(*rewind)
        return rewind

    def _behind(self) -> set[TopicPartition]:
        return {TopicPartition(topic, partition) for (topic, partition), done in self._progress.items() if not done}

    async def _partition_progress(self, polled: Mapping[TopicPartition, Sequence[Any]]) -> dict[tuple[str, int], bool]:
        """Per assigned partition: has this batch reached everything published to it so far?

        A partition the broker has not reported on yet counts as behind: just after a start or a
        rebalance, some partitions are fetched while others still look up their committed
        offsets, and a record from the first must not go ahead of an older one the others are
        about to deliver (the aligner waits for them a few milliseconds, at most its idle time).
        """
        consumer = self._require_consumer()
        progress: dict[tuple[str, int], bool] = {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            batch = polled.get(tp)
            position = batch[-1].offset + 1 if batch else await consumer.position(tp)
            progress[tp.topic, tp.partition] = highwater is not None and position >= highwater
        return progress

    def _decode(self, records: Sequence[RawRecord]) -> tuple[list[Decoded[T]], list[Rejection], list[ProgressMark]]:
        decoded: list[Decoded[T]] = []
        rejections: list[Rejection] = []
        marks: list[ProgressMark] = []
        for record in records:
            if is_progress_mark(record.headers):
                mark = read_mark(record.value)
                if mark is None:
                    rejections.append(Rejection(record, "invalid_progress_mark", "progress mark without an until time"))
                else:
                    marks.append(ProgressMark(record, replace(mark, written_at=record.timestamp / 1000)))
                continue
            try:
                decoded.append(self._decoder(record))
            except Rejected as exc:
                rejections.append(Rejection(record, exc.code, exc.message))
            except Exception as exc:  # a decoder bug must not stall the partition either
                rejections.append(Rejection(record, "decode_error", f"{type(exc).__name__}: {exc}"))
        return decoded, rejections, marks

    async def _apply_isolating_failures(self, decoded: Sequence[Decoded[T]], rejections: Sequence[Rejection]) -> None:
        try:
            await self._apply(decoded, rejections)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            # Something in the batch breaks the handler: apply records one by one so only the
            # culprit is dead-lettered and everything after it still flows.
            log.warning("batch failed; isolating the failing record", error=repr(exc))
            for item in decoded:
                with event_context(item.event_id, getattr(item.payload, "member_id", None)):
                    try:
                        await self._apply([item], [])
                    except TRANSIENT_ERRORS:
                        raise
                    except Exception as item_exc:
                        log.error("handler failed on this record; dead-lettering it", error=repr(item_exc))
                        message = f"{type(item_exc).__name__}: {item_exc}"
                        await self._apply([], [Rejection(item.record, "handler_error", message)])
            if rejections:
                await self._apply([], rejections)

    async def _apply(self, decoded: Sequence[Decoded[T]], rejections: Sequence[Rejection]) -> None:
        unique: dict[str, Decoded[T]] = {}
        for item in decoded:
            unique.setdefault(item.event_id, item)
        async with self._pool.acquire() as conn, conn.transaction():
            ids = [*unique, *(r.inbox_id for r in rejections)]
            topics = [item.record.topic for item in unique.values()] + [r.record.topic for r in rejections]
            new_ids = await inbox.claim(conn, ids, topics)
            fresh = [item for event_id, item in unique.items() if event_id in new_ids]
            uow = UnitOfWork(conn, progress=dict(self._progress), complete_until=self._complete_until)
            if fresh:
                await self._handler(uow, fresh)
            dead = [r for r in rejections if r.inbox_id in new_ids] + uow.rejections
            await outbox.append(conn, [*uow.outgoing, *(dead_letter(self.service, self._dlq_topic, r) for r in dead)])
            # After the batch's records in the outbox, so after them in every partition.
            due = self._due_marks()
            if due is not None:
                await outbox.append(conn, due[1])
        if due is not None:
            self._marked_until, self._marked_at = due[0], time.monotonic()
        if fresh:
            self._progress_until = latest(self._progress_until, self._complete_until)
        self._count(decoded, fresh, uow.rejections, dead)

    # -- progress marks ------------------------------------------------------------------------

    def _due_marks(self) -> tuple[datetime, list[KafkaRecord]] | None:
        """The marks to write now, if the input is complete further than the last ones said and
        they are not too recent (a mark per output partition per batch would swamp small batches)."""
        until = self._complete_until
        if not self._marks_to or until is None or (self._marked_until is not None and until <= self._marked_until):
            return None
        if time.monotonic() - self._marked_at < self._mark_every_s:
            return None
        consumer = self._require_consumer()
        owned = sorted(tp for tp in consumer.assignment() if tp.topic not in self._feedback_topics)
        if not owned:
            return None
        origins = [origin_name(tp.topic, tp.partition) for tp in owned]
        universe = {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in {tp.topic for tp in owned}}
        marks = [
            mark
            for topic, partitions in sorted(self._marks_to.items())
            for mark in progress_marks(
                topic, partitions, range(partitions), until, self.service, origins=origins, universe=universe
            )
        ]
        return until, marks

    def _progress_due(self) -> datetime | None:
        until = self._complete_until
        if self._on_progress is None or until is None or until <= (self._progress_until or FAR_PAST):
            return None
        return until if time.monotonic() - self._progress_at >= self._mark_every_s else None

    async def _write_progress(self) -> None:
        """Progress with nothing to apply: marks held back as too recent after the last batch (or
        for input that moved on without records), and the ``on_progress`` call."""
        async with self._batch_lock:
            due = self._due_marks()
            progressed = self._progress_due()
            if due is None and progressed is None:
                return
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    outgoing = due[1] if due is not None else []
                    if progressed is not None and self._on_progress is not None:
                        uow = UnitOfWork(conn, progress=dict(self._progress), complete_until=progressed)
                        await self._on_progress(uow)
                        outgoing += uow.outgoing
                    await outbox.append(conn, outgoing)
            except TRANSIENT_ERRORS as exc:
                log.warning("progress not written; will retry", error=repr(exc))
                return
            now = time.monotonic()
            if due is not None:
                self._marked_until, self._marked_at = due[0], now
            if progressed is not None:
                self._progress_until, self._progress_at = progressed, now

    def _count(
        self,
        decoded: Sequence[Decoded[T]],
        fresh: Sequence[Decoded[T]],
        handler_rejections: Sequence[Rejection],
        dead: Sequence[Rejection],
    ) -> None:
        # Tallied per batch first: one counter update per (topic, outcome), not one per record.
        outcomes: Counter[tuple[str, str]] = Counter()
        rejected_by_handler = {(r.record.topic, r.record.partition, r.record.offset) for r in handler_rejections}
        for item in fresh:
            if (item.record.topic, item.record.partition, item.record.offset) not in rejected_by_handler:
                outcomes[item.record.topic, "applied"] += 1
        fresh_ids = {id(item) for item in fresh}
        for item in decoded:
            if id(item) not in fresh_ids:
                outcomes[item.record.topic, "duplicate"] += 1
        for rejection in dead:
            origin = f"{rejection.record.topic}/{rejection.record.partition}/{rejection.record.offset}"
            log.warning("record dead-lettered", reason=rejection.code, origin=origin, detail=rejection.message[:200])
            outcomes[rejection.record.topic, "rejected"] += 1
            metrics.DLQ_RECORDS.labels(self.service, rejection.code).inc()
        for (topic, outcome), count in outcomes.items():
            metrics.CONSUMER_RECORDS.labels(self.service, topic, outcome).inc(count)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._require_consumer().commit(offsets)
            self._committed.update(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group rebalanced: the new owner gets these records again and its inbox skips them.
            log.warning("offset commit failed after DB commit; records will be redelivered", error=repr(exc))

    def _observe_delays(self, decoded: Sequence[Decoded[T]]) -> None:
        by_kafka_time = metrics.PROCESSING_DELAY.labels(self.service, "kafka_timestamp")
        by_event_time = metrics.PROCESSING_DELAY.labels(self.service, "event_time")
        now = time.time()
        for item in decoded:
            by_kafka_time.observe(max(0.0, now - item.record.timestamp / 1000))
            if item.event_time is not None:
                by_event_time.observe(max(0.0, now - item.event_time.timestamp()))

    # -- lag -----------------------------------------------------------------------------------

    async def _update_lag(self, every_s: float = 5.0) -> None:
        now = time.monotonic()
        if now - self._last_lag_update < every_s:
            return
        self._last_lag_update = now
        consumer = self._require_consumer()
        assignment = list(consumer.assignment())
        if not assignment:
            return
        try:
            ends = await consumer.end_offsets(assignment)
            for tp in assignment:
                if tp not in self._committed:
                    self._committed[tp] = await consumer.committed(tp) or 0
                lag = max(0, ends[tp] - self._committed[tp])
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(lag)
        except (KafkaError, IllegalStateError) as exc:  # lag is best effort; consumption goes on
            log.debug("lag update failed", error=repr(exc))

    def forget_partitions(self, partitions: Sequence[TopicPartition]) -> None:
        for tp in partitions:
            self._committed.pop(tp, None)
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self.service, tp.topic, str(tp.partition))

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("consumer not started")
        return self._consumer


@dataclass(frozen=True)
class ProgressMark:
    """A producer's progress mark (see progress.py): read into the clock, never handed on."""

    record: RawRecord
    mark: Mark


def _offset_of(item: Decoded[Any] | Rejection | ProgressMark) -> int:
    return item.record.offset


def _event_time_of(item: Decoded[Any] | Rejection | ProgressMark) -> datetime | None:
    return item.event_time if isinstance(item, Decoded) else None


def _topic_of(tp: TopicPartition) -> str:
    """A partition's family for the aligner: partitions of one topic share their producers."""
    return str(tp.topic)


def _mark_of(item: Decoded[Any] | Rejection | ProgressMark) -> Mark | None:
    return item.mark if isinstance(item, ProgressMark) else None


class _HoldRebalanceForBatch(ConsumerRebalanceListener):  # type: ignore[misc]
    """Revocation waits until the in-flight batch has committed its DB transaction and offsets."""

    def __init__(self, owner: BatchConsumer[Any]) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        async with self._owner._batch_lock:
            pass
        metrics.REBALANCES.labels(self._owner.service, "revoked").inc()
        self._owner.forget_partitions(list(revoked))
        self._owner._complete_until = None  # marks speak for the partitions owned: wait for the next step
        if self._owner._aligner is not None:
            self._owner._aligner.forget(revoked)
        for tp in revoked:
            self._owner._fetched_until.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        metrics.REBALANCES.labels(self._owner.service, "assigned").inc()
