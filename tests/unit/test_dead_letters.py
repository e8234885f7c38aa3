"""Dead letters: a rejected record goes to its service's DLQ with raw bytes, reason and origin."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from shared.contracts import DeadLetterV1
from shared.kafka.records import Decoded, Rejected, Rejection, UnitOfWork, dead_letter
from tests.unit.fakes import FakeRecord

RAW_VALUE = "{not json … 会员 Қазақ سلام 👋".encode() + b"\xff\xfe\x00"  # not even valid UTF-8


def _poison() -> FakeRecord:
    return FakeRecord(
        topic="raw.chat.v1",
        partition=7,
        offset=4242,
        key=b"upstream-key",
        value=RAW_VALUE,
        headers=[("mp-source-format", b"chat_json"), ("trace", b"\xffbad"), ("empty", None)],
    )


def _letter(record: FakeRecord, code: str = "invalid_json", message: str = "Expecting property name") -> DeadLetterV1:
    out = dead_letter("ingest", "ingest.dlq.v1", Rejection(record, code, message))
    return DeadLetterV1.model_validate_json(out.value)


def test_a_dead_letter_goes_to_the_dlq_topic_keyed_like_the_original() -> None:
    out = dead_letter("ingest", "ingest.dlq.v1", Rejection(_poison(), "invalid_json", "bad"))

    assert out.topic == "ingest.dlq.v1"
    assert out.key == b"upstream-key"
    assert dict(out.headers) == {"mp-error-code": b"invalid_json", "mp-origin": b"raw.chat.v1/7/4242"}


def test_a_dead_letter_value_is_a_valid_dead_letter_with_reason_and_origin() -> None:
    before = datetime.now(UTC)

    letter = _letter(_poison())

    assert letter.service == "ingest"
    assert letter.error_code == "invalid_json"
    assert letter.error_message == "Expecting property name"
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == ("raw.chat.v1", 7, 4242)
    assert before <= letter.failed_at <= datetime.now(UTC)


def test_a_dead_letter_keeps_the_raw_key_and_value_bytes_exactly() -> None:
    letter = _letter(_poison())

    assert base64.b64decode(letter.original_value_b64) == RAW_VALUE
    assert letter.original_key_b64 is not None
    assert base64.b64decode(letter.original_key_b64) == b"upstream-key"


def test_a_dead_letter_keeps_the_headers_as_text_and_drops_empty_ones() -> None:
    letter = _letter(_poison())

    assert letter.original_headers == {"mp-source-format": "chat_json", "trace": "\ufffdbad"}


def test_a_record_without_key_value_or_headers_still_makes_a_dead_letter() -> None:
    record = FakeRecord(topic="member.chat.v1", partition=0, offset=1, key=None, value=None, headers=None)

    out = dead_letter("scoring", "scoring.dlq.v1", Rejection(record, "empty_value", "record has no value"))
    letter = DeadLetterV1.model_validate_json(out.value)

    assert out.key is None
    assert letter.original_key_b64 is None
    assert letter.original_value_b64 == ""
    assert letter.original_headers == {}


def test_a_long_error_message_is_cut_to_what_the_contract_allows() -> None:
    letter = _letter(_poison(), message="x" * 10_000)

    assert letter.error_message == "x" * 4000


def test_a_rejections_inbox_id_is_its_record_coordinates() -> None:
    rejection = Rejection(_poison(), "invalid_json", "bad")

    assert rejection.inbox_id == "dlq:raw.chat.v1:7:4242"


def test_the_same_record_redelivered_has_the_same_inbox_id_whatever_the_reason() -> None:
    first = Rejection(_poison(), "invalid_json", "bad")
    again = Rejection(_poison(), "handler_error", "boom")
    next_one = Rejection(FakeRecord(topic="raw.chat.v1", partition=7, offset=4243), "invalid_json", "bad")

    assert first.inbox_id == again.inbox_id
    assert next_one.inbox_id != first.inbox_id


def test_rejected_carries_its_code_and_message() -> None:
    error = Rejected("too_large", "record of 2 bytes")

    assert (error.code, error.message, str(error)) == ("too_large", "record of 2 bytes", "too_large: record of 2 bytes")


def test_a_unit_of_work_collects_what_to_publish_and_what_to_reject() -> None:
    record = _poison()
    uow = UnitOfWork(conn=None)
    decoded: Decoded[str] = Decoded(event_id="e", payload="p", record=record)
    outgoing = dead_letter("ingest", "ingest.dlq.v1", Rejection(record, "x", "y"))

    uow.publish(outgoing)
    uow.reject(decoded, "business_rule", "refund without sale")

    assert uow.outgoing == [outgoing]
    assert uow.rejections == [Rejection(record, "business_rule", "refund without sale")]
