"""CloudEvents 1.0 over Kafka, binary content mode (the Kafka protocol binding).

Attributes travel as ``ce_*`` headers, the data as the record value (JSON), and the
record key is the member id, which is also the CloudEvents ``subject``. Written here
rather than through the CloudEvents SDK because the binding is a dozen lines and this
is the hot path of every service: decoding goes straight from bytes to the pydantic model.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.contracts.base import MemberEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
# uuid5 namespace for ids derived from upstream identifiers, so a re-sent event keeps its id.
EVENT_ID_NAMESPACE = uuid.UUID("5b0c8f5e-3c2a-4a3e-9d8e-6f1f2a4b7c10")

E = TypeVar("E", bound=BaseModel)


class EnvelopeError(ValueError):
    """A record is not a valid CloudEvent; ``code`` is the DLQ reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def derived_event_id(*parts: str) -> str:
    """A stable id for an event derived from upstream identifiers."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class CloudEvent(Generic[E]):
    id: str
    source: str
    type: str
    time: datetime
    subject: str | None
    data: E


@dataclass(frozen=True)
class KafkaRecord:
    """What goes on the wire: ready for a producer or an outbox row."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def cloudevent_headers(
    *, ce_id: str, source: str, ce_type: str, time: datetime, subject: str | None = None
) -> tuple[tuple[str, bytes], ...]:
    """The binary-mode CloudEvents headers of one record."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", ce_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", time.astimezone(UTC).isoformat().encode()),
    ]
    if subject is not None:
        headers.append(("ce_subject", subject.encode()))
    headers.append(("content-type", CONTENT_TYPE.encode()))
    return tuple(headers)


def wrap(event: MemberEvent, *, topic: str, source: str, event_id: str | None = None) -> KafkaRecord:
    """Encode a member event as a CloudEvent record keyed by its member id."""
    headers = cloudevent_headers(
        ce_id=event_id or str(uuid.uuid4()),
        source=source,
        ce_type=event.event_type,
        time=event.occurred_at,
        subject=event.member_id,
    )
    return KafkaRecord(
        topic=topic, key=event.member_id.encode(), value=event.model_dump_json().encode(), headers=headers
    )


def header_map(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, bytes]:
    return {name: value for name, value in (headers or ()) if value is not None}


def unwrap(
    contract: type[E], headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes], value: bytes | None
) -> CloudEvent[E]:
    """Decode a binary-mode CloudEvent into its contract; raises EnvelopeError with a DLQ code."""
    attrs = dict(headers) if isinstance(headers, Mapping) else header_map(headers)
    if value is None:
        raise EnvelopeError("empty_value", "record has no value")
    try:
        spec = attrs["ce_specversion"].decode()
        ce_id = attrs["ce_id"].decode()
        ce_type = attrs["ce_type"].decode()
        ce_source = attrs["ce_source"].decode()
    except KeyError as missing:
        raise EnvelopeError("missing_ce_attribute", f"required CloudEvents header {missing} is missing") from None
    except UnicodeDecodeError as exc:
        raise EnvelopeError("invalid_ce_attribute", f"CloudEvents header is not UTF-8: {exc}") from None
    if spec != SPEC_VERSION:
        raise EnvelopeError("unsupported_specversion", f"ce_specversion {spec!r} is not {SPEC_VERSION}")
    expected_type = getattr(contract, "event_type", None)
    if expected_type is not None and ce_type != expected_type:
        raise EnvelopeError("unexpected_type", f"ce_type {ce_type!r} on a topic of {expected_type!r}")
    if not ce_id or len(ce_id) > 200:
        raise EnvelopeError("invalid_ce_attribute", "ce_id must be 1..200 characters")
    try:
        data = contract.model_validate_json(value)
    except ValueError as exc:
        raise EnvelopeError("schema_violation", _short(str(exc))) from None
    time = _ce_time(attrs.get("ce_time"))
    try:
        subject = attrs["ce_subject"].decode() if "ce_subject" in attrs else None
    except UnicodeDecodeError as exc:
        raise EnvelopeError("invalid_ce_attribute", f"ce_subject is not UTF-8: {exc}") from None
    return CloudEvent(id=ce_id, source=ce_source, type=ce_type, time=time, subject=subject, data=data)


def _ce_time(raw: bytes | None) -> datetime:
    if raw is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(raw.decode())
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("invalid_ce_attribute", f"ce_time {raw[:64]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise EnvelopeError("invalid_ce_attribute", "ce_time has no UTC offset")
    return parsed


def _short(text: str, limit: int = 1000) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
