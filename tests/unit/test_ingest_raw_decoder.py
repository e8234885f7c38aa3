"""Decoding raw upstream Kafka records: source format from header or field, then the format's parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.adapters.raw_records import ParserSettings, raw_decoder
from services.ingest.domain.model import ChatDraft, CommunityDraft, IdKind, Parsed
from services.ingest.domain.payloads import MAX_RECORD_BYTES
from shared.contracts import SOURCE_FORMAT_HEADER, ChatKind, derived_event_id
from shared.kafka.records import Rejected
from tests.unit.fakes import FakeRecord

SALT = b"test-salt"
DECODE = raw_decoder(ParserSettings(SALT), lambda _: "UTC")


def _body(**changes: Any) -> dict[str, Any]:
    """A chat_json body without a source_format field; a field changed to ``...`` is left out."""
    body: dict[str, Any] = {
        "source_event_id": "msg-0001",
        "community_id": "store-001-vip",
        "sender": {"id_type": "phone", "id": "+8613800138000"},
        "sent_at": "2024-05-01T20:00:00+08:00",
        "kind": "text",
        "text": "Сәлем 👋",
    }
    return {key: value for key, value in (body | changes).items() if value is not ...}


def _record(body: dict[str, Any] | bytes | None, *, source_format: str | None = None, offset: int = 0) -> FakeRecord:
    value = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else body
    headers = [] if source_format is None else [(SOURCE_FORMAT_HEADER, source_format.encode())]
    return FakeRecord(topic="raw.chat.v1", offset=offset, key=b"upstream", value=value, headers=headers)


def _rejection_code(record: FakeRecord) -> str:
    with pytest.raises(Rejected) as caught:
        DECODE(record)
    return caught.value.code


def test_a_record_with_the_source_format_header_decodes_to_a_canonical_event() -> None:
    record = _record(_body(), source_format="chat_json")

    decoded = DECODE(record)

    assert isinstance(decoded.payload, Parsed)
    assert isinstance(decoded.payload.body, ChatDraft)
    assert decoded.payload.body.kind is ChatKind.MESSAGE
    assert decoded.payload.body.text == "Сәлем 👋"
    assert [i.kind for i in decoded.payload.identifiers] == [IdKind.PHONE]
    assert "8613800138000" not in decoded.payload.identifiers[0].digest
    assert decoded.event_time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert decoded.record is record


def test_a_record_with_the_source_format_field_decodes_without_a_header() -> None:
    decoded = DECODE(_record(_body(source_format="chat_json", kind="join")))

    assert isinstance(decoded.payload, Parsed)
    assert isinstance(decoded.payload.body, CommunityDraft)


def test_the_header_wins_over_the_field() -> None:
    decoded = DECODE(_record(_body(source_format="telegram"), source_format="chat_json"))
    assert isinstance(decoded.payload, Parsed)

    assert _rejection_code(_record(_body(source_format="chat_json"), source_format="wechat_oa")) == "invalid_xml"


def test_an_empty_header_falls_back_to_the_field() -> None:
    decoded = DECODE(_record(_body(source_format="chat_json"), source_format=""))

    assert isinstance(decoded.payload, Parsed)


def test_a_record_with_neither_header_nor_field_is_rejected() -> None:
    assert _rejection_code(_record(_body())) == "missing_source_format"


def test_a_null_source_format_field_counts_as_missing() -> None:
    assert _rejection_code(_record(_body(source_format=None))) == "missing_source_format"


@pytest.mark.parametrize(
    ("source_format", "code"),
    [("telegram", "unknown_source_format"), ("pos_receipt", "missing_field")],
)
def test_a_record_of_a_format_ingest_cannot_read_is_rejected(source_format: str, code: str) -> None:
    assert _rejection_code(_record(_body(), source_format=source_format)) == code


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"{not json", id="broken"),
        pytest.param(b'["a", "list"]', id="top-level-list"),
        pytest.param(b'"a string"', id="top-level-string"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_rejected(value: bytes) -> None:
    assert _rejection_code(_record(value, source_format="chat_json")) == "invalid_json"


def test_a_body_that_is_not_utf8_is_rejected() -> None:
    assert _rejection_code(_record(b"\x80\x81\x82", source_format="chat_json")) == "invalid_utf8"


@pytest.mark.parametrize("value", [None, b""], ids=["none", "empty"])
def test_a_record_without_a_body_is_rejected(value: bytes | None) -> None:
    assert _rejection_code(_record(value, source_format="chat_json")) == "empty_value"


def test_a_record_over_the_size_limit_is_rejected_before_parsing() -> None:
    assert _rejection_code(_record(b"{" * (MAX_RECORD_BYTES + 1), source_format="chat_json")) == "too_large"


def test_a_record_at_exactly_the_size_limit_is_accepted() -> None:
    compact = json.dumps(_body()).encode()
    padded = compact + b" " * (MAX_RECORD_BYTES - len(compact))

    decoded = DECODE(_record(padded, source_format="chat_json"))

    assert len(padded) == MAX_RECORD_BYTES
    assert isinstance(decoded.payload, Parsed)
    assert decoded.payload.dedup_key == "msg-0001"


def test_a_normalisation_error_is_rejected_with_its_own_code() -> None:
    assert _rejection_code(_record(_body(sent_at="2024-05-01T20:00:00"), source_format="chat_json")) == (
        "invalid_timestamp"
    )
    assert _rejection_code(_record(_body(community_id=...), source_format="chat_json")) == "missing_field"


def test_the_event_id_is_derived_from_source_and_source_event_id() -> None:
    decoded = DECODE(_record(_body(), source_format="chat_json"))

    assert decoded.event_id == derived_event_id("chat_json", "msg-0001")


def test_a_redelivered_or_resent_record_keeps_its_event_id() -> None:
    first = DECODE(_record(_body(), source_format="chat_json", offset=10))
    resent = DECODE(_record(_body(text="edited"), source_format="chat_json", offset=11))

    assert first.event_id == resent.event_id


def test_records_with_different_source_event_ids_get_different_event_ids() -> None:
    first = DECODE(_record(_body(source_event_id="msg-0001"), source_format="chat_json"))
    second = DECODE(_record(_body(source_event_id="msg-0002"), source_format="chat_json"))

    assert first.event_id != second.event_id


def test_the_identifier_hashes_depend_on_the_decoders_salt() -> None:
    record = _record(_body(), source_format="chat_json")
    other = raw_decoder(ParserSettings(b"other-salt"), lambda _: "UTC")(record).payload

    assert isinstance(other, Parsed)
    assert isinstance(DECODE(record).payload, Parsed)
    assert other.identifiers != DECODE(record).payload.identifiers  # type: ignore[union-attr]
