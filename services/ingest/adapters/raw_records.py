"""Decoding raw upstream Kafka records: source format from header or field, JSON body."""

from __future__ import annotations

import json
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.normalise import CanonicalEvent, normalise
from shared.contracts import SOURCE_FORMAT_HEADER, derived_event_id
from shared.contracts.envelope import header_map
from shared.kafka.records import Decoded, RawRecord, Rejected

MAX_RECORD_BYTES = 1_000_000


def raw_decoder(salt: bytes):  # type: ignore[no-untyped-def]
    def decode(record: RawRecord) -> Decoded[CanonicalEvent]:
        body = record.value
        if not body:
            raise Rejected("empty_value", "record has no body")
        if len(body) > MAX_RECORD_BYTES:
            raise Rejected("too_large", f"record of {len(body)} bytes exceeds {MAX_RECORD_BYTES}")
        try:
            payload: Any = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Rejected("invalid_json", str(exc)[:500]) from None
        if not isinstance(payload, dict):
            raise Rejected("invalid_json", "top level must be an object")
        headers = header_map(record.headers)
        fmt = headers.get(SOURCE_FORMAT_HEADER, b"").decode(errors="replace") or str(payload.get("source_format") or "")
        if not fmt:
            raise Rejected("missing_source_format", f"no {SOURCE_FORMAT_HEADER} header nor source_format field")
        try:
            event = normalise(fmt, payload, salt)
        except InvalidRecord as exc:
            raise Rejected(exc.code, exc.message) from None
        except ValueError as exc:  # pydantic validation of the canonical event
            raise Rejected("schema_violation", str(exc)[:1000]) from None
        return Decoded(
            event_id=derived_event_id(event.source, event.source_event_id),
            payload=event,
            record=record,
            event_time=event.occurred_at,
        )

    return decode
