"""Raw upstream records (Kafka, HTTP, files) to parsed records: format detection, then the format's parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.ingest.domain import event_order
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import Ignored, Parsed
from services.ingest.domain.normalise import parse_record
from services.ingest.domain.payloads import ParseContext, json_object
from shared.contracts import SOURCE_FORMAT_HEADER, derived_event_id
from shared.contracts.envelope import header_map
from shared.kafka.records import Decoded, Decoder, RawRecord, Rejected


@dataclass(frozen=True)
class ParserSettings:
    salt: bytes
    default_region: str = "CN"


def parse_body(source_format: str, body: bytes, settings: ParserSettings) -> Parsed | Ignored:
    """Parse one upstream body; raises ``InvalidRecord`` with a documented code when it is bad input."""
    ctx = ParseContext(salt=settings.salt, now=datetime.now(UTC), default_region=settings.default_region)
    return parse_record(source_format, body, ctx)


def source_format_of(headers: dict[str, bytes], body: bytes) -> str:
    """The ``mp-source-format`` header, else a JSON body's top-level ``source_format`` field."""
    named = headers.get(SOURCE_FORMAT_HEADER)
    if named:
        return named.decode("utf-8", errors="replace")
    try:
        value = json_object(body).get("source_format")
    except InvalidRecord:
        value = None
    if not isinstance(value, str) or not value:
        raise InvalidRecord("missing_source_format", f"no {SOURCE_FORMAT_HEADER} header and no source_format field")
    return value


def inbox_id(result: Parsed | Ignored, fallback: Callable[[], str]) -> str:
    """The dedup key: (source, source event id), hashed into a stable event id."""
    if isinstance(result, Parsed):
        return derived_event_id(result.dedup_source, result.dedup_key)
    return derived_event_id(result.source, result.dedup_key) if result.dedup_key else fallback()


def raw_decoder(settings: ParserSettings, zone_of: Callable[[str], str]) -> Decoder[Parsed | Ignored]:
    """``zone_of`` names a store's time zone, to place its till receipts in event time."""

    def decode(record: RawRecord) -> Decoded[Parsed | Ignored]:
        body = record.value or b""
        try:
            result = parse_body(source_format_of(header_map(record.headers), body), body, settings)
        except InvalidRecord as exc:
            raise Rejected(exc.code, exc.message) from None
        event_time = event_order.event_time(result, zone_of)
        return Decoded(
            event_id=inbox_id(result, lambda: f"ignored:{record.topic}:{record.partition}:{record.offset}"),
            payload=result,
            record=record,
            event_time=event_time,
        )

    return decode
