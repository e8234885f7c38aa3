"""Why an upstream record is rejected. ``code`` is the stable DLQ reason; ``REJECTION_CODES`` documents them all."""

from __future__ import annotations

REJECTION_CODES: dict[str, str] = {
    "empty_value": "The record or event has no body.",
    "too_large": "The body exceeds the size limit (1 MB per record by default).",
    "invalid_utf8": "The body is not valid UTF-8.",
    "invalid_json": "The body is not a JSON object.",
    "invalid_xml": "The body is not well-formed XML, or uses DTDs or entities (refused: entity-expansion bombs).",
    "invalid_csv": "The body is not CSV with the documented header.",
    "too_deeply_nested": "The payload nests deeper than the limit (32 levels).",
    "missing_source_format": "No mp-source-format header and no source_format field.",
    "unknown_source_format": "The source format is not one ingest knows.",
    "missing_field": "A required field is absent or empty.",
    "invalid_field": "A field has the wrong type or an impossible value.",
    "unknown_kind": "The message, event or status kind is not one the format defines.",
    "unknown_id_type": "The member identifier type is not one ingest knows.",
    "empty_identity": "No usable member identifier (card, phone, openid, unionid, customer id) is present.",
    "invalid_phone": "A phone number cannot be parsed as a possible number.",
    "invalid_timestamp": "A timestamp cannot be parsed, or lacks a required UTC offset.",
    "timestamp_out_of_range": "A timestamp is before 2000-01-01 or more than a day in the future.",
    "invalid_quantity": "A quantity is zero, negative, fractional or absurd (over 10,000 units).",
    "invalid_amount": "An amount is negative, not exact, or absurd (over 10^10 minor units).",
    "unknown_currency": "The currency is not an ISO 4217 code in use.",
    "total_mismatch": "The receipt or refund total disagrees with its lines.",
    "schema_violation": "The canonical event failed its contract's validation.",
    "handler_error": "Applying the event failed unexpectedly; the record is kept for replay.",
}


class InvalidRecord(ValueError):
    def __init__(self, code: str, message: str) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"undocumented rejection code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
