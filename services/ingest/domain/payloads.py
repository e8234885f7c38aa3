"""Hardened parsing of upstream bodies: size, UTF-8, nesting depth and XML entity limits."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from services.ingest.domain.errors import InvalidRecord

MAX_RECORD_BYTES = 1_000_000
MAX_DEPTH = 32
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)
# ASCII digits only: str.isdigit() also admits "²" and other digits int() refuses; 20 digits is past any date.
_UNIX_TIME = re.compile(r"-?[0-9]{1,20}")


@dataclass(frozen=True)
class ParseContext:
    """What a format adapter needs besides the bytes: the PII salt, the default phone region and the clock."""

    salt: bytes
    now: datetime
    default_region: str = "CN"


def text_of(body: bytes, *, limit: int = MAX_RECORD_BYTES) -> str:
    if not body:
        raise InvalidRecord("empty_value", "the record has no body")
    if len(body) > limit:
        raise InvalidRecord("too_large", f"{len(body)} bytes exceed the limit of {limit}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord("invalid_utf8", f"byte {exc.start} is not valid UTF-8") from None


def json_object(body: bytes, *, limit: int = MAX_RECORD_BYTES) -> dict[str, Any]:
    """A JSON object from raw bytes, refusing oversized, non-UTF-8 and over-nested input."""
    text = text_of(body, limit=limit)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRecord("invalid_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidRecord("too_deeply_nested", f"the payload nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer literal past the interpreter's 4,300-digit limit
        raise InvalidRecord("invalid_json", str(exc)[:120]) from None
    if not isinstance(payload, dict):
        raise InvalidRecord("invalid_json", f"the top level must be an object, not {type(payload).__name__}")
    # Each level opens with a bracket, so a text with few brackets cannot nest deeply: most records
    # skip the walk (it was about 3% of ingest's CPU).
    if text.count("{") + text.count("[") > MAX_DEPTH and _json_depth(payload) > MAX_DEPTH:
        raise InvalidRecord("too_deeply_nested", f"the payload nests deeper than {MAX_DEPTH} levels")
    if "\\u" in text and not _utf8_encodable(payload):
        # A "\ud800" escape decodes to a lone surrogate, which no UTF-8 event can carry (RFC 7493 forbids it).
        raise InvalidRecord("invalid_json", "a string escapes an unpaired surrogate")
    return payload


def xml_element(body: bytes, *, limit: int = MAX_RECORD_BYTES) -> ET.Element:
    """An XML root element, parsed with DTDs, entities and external references forbidden."""
    # Parsing the checked text, not the bytes, makes a declared encoding (latin-1, unknown) irrelevant.
    text = text_of(body, limit=limit)
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InvalidRecord("invalid_xml", f"refused: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise InvalidRecord("invalid_xml", str(exc)) from None
    if text.count("<") > MAX_DEPTH and _xml_depth(root) > MAX_DEPTH:
        raise InvalidRecord("too_deeply_nested", f"the document nests deeper than {MAX_DEPTH} levels")
    return root


def check_event_time(value: datetime, now: datetime) -> datetime:
    """``value`` in UTC, refused when before 2000 or more than a day ahead of ``now``."""
    utc = value.astimezone(UTC)
    if utc < EARLIEST_EVENT_TIME:
        raise InvalidRecord("timestamp_out_of_range", f"{utc.isoformat()} is before {EARLIEST_EVENT_TIME.date()}")
    if utc > now + MAX_CLOCK_SKEW:
        raise InvalidRecord("timestamp_out_of_range", f"{utc.isoformat()} is more than a day in the future")
    return utc


def rfc3339(value: object, field: str, now: datetime) -> datetime:
    """An RFC 3339 timestamp with an offset, in UTC and within the accepted range."""
    if value is None or value == "":
        raise InvalidRecord("missing_field", f"{field} is required (RFC 3339 with an offset)")
    if not isinstance(value, str):
        raise InvalidRecord("invalid_timestamp", f"{field} must be an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord("invalid_timestamp", f"{field} {value[:64]!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise InvalidRecord("invalid_timestamp", f"{field} {value[:64]!r} has no UTC offset")
    try:
        return check_event_time(parsed, now)
    except OverflowError:
        raise InvalidRecord("timestamp_out_of_range", f"{field} {value[:64]!r} is out of range") from None


def unix_time(value: object, field: str, now: datetime, *, millis: bool = False) -> datetime:
    """A unix timestamp (seconds, or milliseconds) in UTC and within the accepted range."""
    if value is None or value == "":
        raise InvalidRecord("missing_field", f"{field} is required (integer unix time)")
    if isinstance(value, str) and _UNIX_TIME.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord("invalid_timestamp", f"{field} must be an integer unix time")
    try:
        parsed = datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidRecord("timestamp_out_of_range", f"{field} {value} is out of range") from None
    return check_event_time(parsed, now)


def required_str(payload: dict[str, Any], field: str, *, max_length: int = 128) -> str:
    value = payload.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise InvalidRecord("invalid_field", f"{field} must be a string, not {type(value).__name__}")
    if value is None or not value.strip():
        raise InvalidRecord("missing_field", f"{field} is required and must be a non-empty string")
    if len(value) > max_length:
        raise InvalidRecord("invalid_field", f"{field} is longer than {max_length} characters")
    return value


def optional_str(payload: dict[str, Any], field: str, *, max_length: int = 128) -> str | None:
    if payload.get(field) in (None, ""):
        return None
    return required_str(payload, field, max_length=max_length)


def _utf8_encodable(payload: dict[str, Any]) -> bool:
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _json_depth(payload: object) -> int:
    # The C parser itself stops at the interpreter's recursion limit; this enforces the tighter one.
    deepest = 0
    stack: list[tuple[object, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in value.values() if isinstance(child, dict | list))
        elif isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in value if isinstance(child, dict | list))
    return deepest


def _xml_depth(root: ET.Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest
