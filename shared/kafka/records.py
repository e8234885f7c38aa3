"""What the batch consumer hands to a service: decoded records, rejections and the unit of work."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.contracts.dlq import DeadLetterV1
from shared.contracts.envelope import KafkaRecord

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
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_key_b64=base64.b64encode(record.key).decode() if record.key is not None else None,
        original_value_b64=base64.b64encode(record.value or b"").decode(),
        original_headers=headers,
        failed_at=datetime.now(UTC),
    )
    return KafkaRecord(
        topic=dlq_topic,
        key=record.key,
        value=letter.model_dump_json().encode(),
        headers=(
            ("mp-error-code", rejection.code.encode()),
            ("mp-origin", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ),
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

    def publish(self, record: KafkaRecord) -> None:
        self.outgoing.append(record)

    def reject(self, decoded: Decoded[Any], code: str, message: str) -> None:
        self.rejections.append(Rejection(decoded.record, code, message))
