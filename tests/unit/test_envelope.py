"""CloudEvents binary mode over Kafka: what ``wrap`` puts on the wire and what ``unwrap`` accepts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.contracts import MemberChatV1, MemberCommunityV1
from shared.contracts.envelope import EnvelopeError, KafkaRecord, derived_event_id, unwrap, wrap
from tests.unit.fakes import MEMBER_ID, T0, chat_event

MULTILINGUAL_TEXT = (
    "会员日快乐！今天全场八折 🎉 | "  # Chinese
    "Сәлеметсіз бе! Қазақстандағы дүкен | "  # Kazakh Cyrillic
    "سلام، تخفیف ویژه برای شما | "  # Persian, right to left
    "👨‍👩‍👧‍👦 🛒 🇨🇳 👍🏽"  # emoji with ZWJ sequences, flags and skin tones
)


def _record(text: str = "hello", *, event_id: str | None = "event-1") -> KafkaRecord:
    return wrap(chat_event(text=text), topic="member.chat.v1", source="memberpulse/test", event_id=event_id)


def _with_header(record: KafkaRecord, name: str, value: bytes | None) -> list[tuple[str, bytes]]:
    """The record's headers with ``name`` replaced (or dropped when ``value`` is None)."""
    kept = [(key, val) for key, val in record.headers if key != name]
    return kept if value is None else [*kept, (name, value)]


def test_wrap_sets_every_cloudevents_header_and_keys_by_member_id() -> None:
    record = _record()

    assert record.topic == "member.chat.v1"
    assert record.key == MEMBER_ID.encode()
    assert dict(record.headers) == {
        "ce_specversion": b"1.0",
        "ce_id": b"event-1",
        "ce_source": b"memberpulse/test",
        "ce_type": b"memberpulse.member.chat.v1",
        "ce_time": b"2024-05-01T12:00:00+00:00",
        "ce_subject": MEMBER_ID.encode(),
        "content-type": b"application/json",
    }
    assert json.loads(record.value)["member_id"] == MEMBER_ID


def test_wrap_writes_ce_time_in_utc_whatever_the_event_offset() -> None:
    almaty = timezone(timedelta(hours=5))
    event = chat_event(occurred_at=datetime(2024, 5, 1, 17, 0, tzinfo=almaty))

    record = wrap(event, topic="member.chat.v1", source="s", event_id="e")

    assert dict(record.headers)["ce_time"] == b"2024-05-01T12:00:00+00:00"


def test_wrap_without_an_event_id_mints_a_fresh_uuid_each_time() -> None:
    first, second = _record(event_id=None), _record(event_id=None)

    first_id, second_id = dict(first.headers)["ce_id"].decode(), dict(second.headers)["ce_id"].decode()
    assert first_id != second_id
    assert uuid.UUID(first_id).version == 4


def test_unwrap_of_wrap_round_trips_the_event_and_its_attributes() -> None:
    original = chat_event()
    record = wrap(original, topic="member.chat.v1", source="memberpulse/test", event_id="event-1")

    event = unwrap(MemberChatV1, record.headers, record.value)

    assert event.data == original
    assert event.id == "event-1"
    assert event.source == "memberpulse/test"
    assert event.type == "memberpulse.member.chat.v1"
    assert event.subject == MEMBER_ID
    assert event.time == T0
    assert event.time.utcoffset() == timedelta(0)


def test_unwrap_accepts_headers_as_a_mapping_too() -> None:
    record = _record()

    event = unwrap(MemberChatV1, dict(record.headers), record.value)

    assert event.id == "event-1"
    assert event.data.text == "hello"


def test_multilingual_text_and_emoji_survive_the_round_trip_byte_exact() -> None:
    record = _record(MULTILINGUAL_TEXT)

    # Written as raw UTF-8 on the wire, not as \u escapes.
    assert MULTILINGUAL_TEXT.encode("utf-8") in record.value
    decoded = unwrap(MemberChatV1, record.headers, record.value).data.text
    assert decoded == MULTILINGUAL_TEXT
    assert decoded.encode("utf-8") == MULTILINGUAL_TEXT.encode("utf-8")


def test_unwrap_without_ce_time_falls_back_to_now_in_utc() -> None:
    record = _record()
    before = datetime.now(UTC)

    event = unwrap(MemberChatV1, _with_header(record, "ce_time", None), record.value)

    assert before <= event.time <= datetime.now(UTC)


def test_unwrap_without_ce_subject_leaves_the_subject_empty() -> None:
    record = _record()

    event = unwrap(MemberChatV1, _with_header(record, "ce_subject", None), record.value)

    assert event.subject is None


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_type", "ce_source"])
def test_unwrap_rejects_a_record_missing_a_required_ce_header(missing: str) -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, _with_header(record, missing, None), record.value)

    assert caught.value.code == "missing_ce_attribute"
    assert missing in str(caught.value)


def test_unwrap_rejects_another_specversion() -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, _with_header(record, "ce_specversion", b"0.3"), record.value)

    assert caught.value.code == "unsupported_specversion"


def test_unwrap_rejects_an_event_type_that_is_not_the_contracts() -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberCommunityV1, record.headers, record.value)

    assert caught.value.code == "unexpected_type"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"{not json", id="invalid-json"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(json.dumps({"member_id": MEMBER_ID}).encode(), id="missing-fields"),
        pytest.param(
            json.dumps(
                {
                    "member_id": MEMBER_ID,
                    "occurred_at": "2024-05-01T12:00:00",  # naive: contracts require an offset
                    "community_id": "c",
                    "kind": "message",
                    "source": "chat_json",
                    "source_event_id": "e",
                }
            ).encode(),
            id="naive-timestamp",
        ),
        pytest.param(
            json.dumps(
                {
                    "member_id": MEMBER_ID,
                    "occurred_at": "2024-05-01T12:00:00Z",
                    "community_id": "c",
                    "kind": "shout",
                    "source": "chat_json",
                    "source_event_id": "e",
                }
            ).encode(),
            id="unknown-enum-value",
        ),
    ],
)
def test_unwrap_rejects_a_value_that_breaks_the_schema(value: bytes) -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, record.headers, value)

    assert caught.value.code == "schema_violation"


def test_unwrap_rejects_an_unknown_field_because_contracts_are_strict() -> None:
    record = _record()
    payload = json.loads(record.value) | {"surprise": 1}

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, record.headers, json.dumps(payload).encode())

    assert caught.value.code == "schema_violation"


def test_unwrap_rejects_a_record_without_a_value() -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, record.headers, None)

    assert caught.value.code == "empty_value"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("ce_id", b"", id="empty-id"),
        pytest.param("ce_id", b"x" * 201, id="id-too-long"),
        pytest.param("ce_type", b"\xff\xfe", id="type-not-utf8"),
    ],
)
def test_unwrap_rejects_an_invalid_ce_attribute(header: str, value: bytes) -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, _with_header(record, header, value), record.value)

    assert caught.value.code == "invalid_ce_attribute"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("ce_time", b"yesterday", id="time-not-rfc3339"),
        pytest.param("ce_subject", b"\xff", id="subject-not-utf8"),
    ],
)
def test_unwrap_reports_a_malformed_optional_attribute_as_an_envelope_error(header: str, value: bytes) -> None:
    record = _record()

    with pytest.raises(EnvelopeError) as caught:
        unwrap(MemberChatV1, _with_header(record, header, value), record.value)

    assert caught.value.code == "invalid_ce_attribute"


def test_derived_event_id_is_a_stable_uuid5_of_its_parts() -> None:
    first = derived_event_id("chat_json", "evt-1")

    assert first == derived_event_id("chat_json", "evt-1")
    assert uuid.UUID(first).version == 5


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("chat_json", "evt-2"), id="other-id"),
        pytest.param(("wecom_archive", "evt-1"), id="other-source"),
        pytest.param(("evt-1", "chat_json"), id="swapped"),
        pytest.param(("chat_jsonevt-1",), id="joined"),
        pytest.param(("chat_", "jsonevt-1"), id="split-elsewhere"),
    ],
)
def test_derived_event_id_differs_for_different_parts(other: tuple[str, ...]) -> None:
    assert derived_event_id(*other) != derived_event_id("chat_json", "evt-1")
