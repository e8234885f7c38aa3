"""What the batch consumer hands to a service: decoded records, rejections and the unit of work."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.contracts.dlq import DeadLetterV1
from shared.contracts.envelope import KafkaRecord
from shared.contracts.raw import SOURCE_FORMAT_HEADER

T = TypeVar("T")


class RawRecord(Protocol):
    """The parts of an aiokafka ConsumerRecord the plumbing reads."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Any


class Rejected(Exception):
    """Raised by a decoder (or recorded by a handler) when a record is bad input: it goes to the DLQ."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class RetryBatch(Exception):
    """Raised by a handler when the batch met a benign race: the transaction rolls back and the batch is retried."""


@dataclass(frozen=True)
class Decoded(Generic[T]):
    """A record that decoded cleanly. ``event_id`` is the inbox key; ``event_time`` feeds latency metrics."""

    event_id: str
    payload: T
    record: RawRecord
    event_time: datetime | None = None


@dataclass(frozen=True)
class Rejection:
    record: RawRecord
    code: str
    message: str

    @property
    def inbox_id(self) -> str:
        # A redelivered poison record must not be dead-lettered twice: its coordinates are its id.
        return f"dlq:{self.record.topic}:{self.record.partition}:{self.record.offset}"


class Decoder(Protocol[T]):
    def __call__(self, record: RawRecord) -> Decoded[T]:  # pragma: no cover - protocol
        ...


def dead_letter(service: str, dlq_topic: str, rejection: Rejection) -> KafkaRecord:
    """The DLQ record for a rejection: raw bytes, reason and origin, keyed like the original."""
    record = rejection.record
    headers = {
        name: value.decode("utf-8", errors="replace") for name, value in (record.headers or ()) if value is not None
    }
    letter = DeadLetterV1(
        service=service,
        error_code=rejection.code,
        error_message=rejection.message[:4000],
        source=headers.get(SOURCE_FORMAT_HEADER),
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key_b64=base64.b64encode(record.key).decode() if record.key is not None else None,
        original_value_b64=base64.b64encode(record.value or b"").decode(),
        original_headers=headers,
        failed_at=datetime.now(UTC),
    )
    return letter_record(dlq_topic, letter, record.key, f"{record.topic}/{record.partition}/{record.offset}")


def request_dead_letter(
    service: str,
    dlq_topic: str,
    *,
    route: str,
    request_id: str,
    source: str | None,
    body: bytes,
    code: str,
    message: str,
) -> KafkaRecord:
    """The DLQ record for input an HTTP API refused: the origin is the route and request id."""
    letter = DeadLetterV1(
        service=service,
        error_code=code,
        error_message=message[:4000],
        source=source,
        original_topic=route,
        origin_request_id=request_id,
        original_value_b64=base64.b64encode(body).decode(),
        failed_at=datetime.now(UTC),
    )
    return letter_record(dlq_topic, letter, None, f"{route}#{request_id}")


def letter_record(dlq_topic: str, letter: DeadLetterV1, key: bytes | None, origin: str) -> KafkaRecord:
    return KafkaRecord(
        topic=dlq_topic,
        key=key,
        value=letter.model_dump_json().encode(),
        headers=(("mp-error-code", letter.error_code.encode()), ("mp-origin", origin.encode())),
    )


@dataclass
class UnitOfWork:
    """One batch's transaction, as a handler sees it.

    The handler changes state through ``conn`` (already inside the transaction), queues
    records to publish with ``publish`` and rejects individual inputs with ``reject``; the
    consumer writes the outbox rows and dead letters before it commits.
    """

    conn: Any  # asyncpg.Connection, typed loosely so domain-facing code need not import asyncpg
    outgoing: list[KafkaRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # (topic, partition) → whether, after this batch, the consumer has read everything published
    # to that partition so far; for every partition the consumer is assigned, not only this
    # batch's. Event-time services use it to know which partitions may still deliver older events.
    progress: dict[tuple[str, int], bool] = field(default_factory=dict)
    # For a consumer in event-time order: the event time up to which every record of its partitions
    # has been handed on, this batch's included (alignment.py ``complete_until``); None if unknown.
    complete_until: datetime | None = None

    def publish(self, record: KafkaRecord) -> None:
        self.outgoing.append(record)

    def reject(self, decoded: Decoded[Any], code: str, message: str) -> None:
        self.rejections.append(Rejection(decoded.record, code, message))
