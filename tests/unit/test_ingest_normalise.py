"""Normalising upstream chat records (``chat_json``) into canonical member events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.domain import chat_json
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.identity import pseudonymous_member_id
from services.ingest.domain.normalise import normalise
from shared.contracts import ChatKind, CommunityAction, MemberChatV1, MemberCommunityV1, SourceFormat

SALT = b"test-salt"
PHONE = "+8613800138000"


def _payload(**changes: Any) -> dict[str, Any]:
    """A valid chat_json record with ``changes`` applied; a field changed to ``...`` is left out."""
    payload: dict[str, Any] = {
        "source_format": "chat_json",
        "source_event_id": "msg-0001",
        "community_id": "store-001-vip",
        "store_id": "store-001",
        "sender": {"id_type": "phone", "id": PHONE},
        "sent_at": "2024-05-01T20:00:00+08:00",
        "kind": "text",
        "text": "今天有新品吗？",
    }
    return {key: value for key, value in (payload | changes).items() if value is not ...}


def _chat(**changes: Any) -> MemberChatV1:
    event = chat_json.normalise(_payload(**changes), SALT)
    assert isinstance(event, MemberChatV1)
    return event


@pytest.mark.parametrize(("kind", "action"), [("join", CommunityAction.JOIN), ("leave", CommunityAction.LEAVE)])
def test_join_and_leave_become_community_events(kind: str, action: CommunityAction) -> None:
    event = chat_json.normalise(_payload(kind=kind), SALT)

    assert event == MemberCommunityV1(
        member_id=pseudonymous_member_id("phone", PHONE, SALT),
        occurred_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        community_id="store-001-vip",
        action=action,
        source="chat_json",
        source_event_id="msg-0001",
    )


@pytest.mark.parametrize(
    ("kind", "chat_kind"),
    [
        ("text", ChatKind.MESSAGE),
        ("image", ChatKind.MESSAGE),
        ("reply", ChatKind.REPLY),
        ("reaction", ChatKind.REACTION),
        ("topic", ChatKind.TOPIC_STARTED),
    ],
)
def test_chat_kinds_become_chat_events_of_the_matching_kind(kind: str, chat_kind: ChatKind) -> None:
    assert _chat(kind=kind).kind is chat_kind


def test_a_chat_event_carries_the_message_and_its_context() -> None:
    event = _chat(kind="reply", reply_to="msg-0000")

    assert event == MemberChatV1(
        member_id=pseudonymous_member_id("phone", PHONE, SALT),
        occurred_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        community_id="store-001-vip",
        store_id="store-001",
        kind=ChatKind.REPLY,
        text="今天有新品吗？",
        reply_to="msg-0000",
        source="chat_json",
        source_event_id="msg-0001",
    )


@pytest.mark.parametrize(
    "text",
    [
        "会员日快乐！🎉",
        "Сәлеметсіз бе! Қазақстан",
        "سلام، تخفیف ویژه",
        "👨‍👩‍👧‍👦🇰🇿👍🏽",
        "  leading and trailing spaces  ",
    ],
)
def test_message_text_is_kept_exactly_as_written(text: str) -> None:
    assert _chat(text=text).text.encode("utf-8") == text.encode("utf-8")


def test_a_message_without_text_has_empty_text() -> None:
    assert _chat(kind="reaction", text=...).text == ""


def test_text_that_is_not_a_string_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        _chat(text=["not", "a", "string"])

    assert caught.value.code == "invalid_field"


@pytest.mark.parametrize(
    ("sent_at", "utc"),
    [
        ("2024-05-01T20:00:00+08:00", datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01T03:30:00+05:00", datetime(2024, 4, 30, 22, 30, tzinfo=UTC)),
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        ("2024-05-01T08:00:00-04:00", datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_are_converted_to_utc(sent_at: str, utc: datetime) -> None:
    occurred_at = _chat(sent_at=sent_at).occurred_at

    assert occurred_at == utc
    assert occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    "sent_at",
    [
        pytest.param("2024-05-01T20:00:00", id="naive"),
        pytest.param("2024-05-01", id="date-only"),
        pytest.param("yesterday evening", id="not-a-timestamp"),
        pytest.param("2024-05-01T20:00:00+25:00", id="offset-out-of-range"),
    ],
)
def test_a_timestamp_without_a_valid_offset_is_invalid(sent_at: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        _chat(sent_at=sent_at)

    assert caught.value.code == "invalid_timestamp"


def test_a_timestamp_that_overflows_in_utc_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        _chat(sent_at="9999-12-31T23:00:00-05:00")

    assert caught.value.code == "invalid_timestamp"


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param(..., id="absent"),
        pytest.param(None, id="null"),
        pytest.param("+8613800138000", id="not-an-object"),
        pytest.param({"id_type": "phone"}, id="no-id"),
        pytest.param({"id": PHONE}, id="no-id-type"),
        pytest.param({"id_type": "phone", "id": ""}, id="empty-id"),
    ],
)
def test_a_record_without_a_usable_sender_is_invalid(sender: Any) -> None:
    with pytest.raises(InvalidRecord) as caught:
        chat_json.normalise(_payload(sender=sender), SALT)

    assert caught.value.code == "missing_field"
    assert "sender" in caught.value.message


@pytest.mark.parametrize("field", ["source_event_id", "community_id", "sent_at"])
@pytest.mark.parametrize("value", [..., "", 42], ids=["absent", "empty", "not-a-string"])
def test_a_record_without_a_required_string_field_is_invalid(field: str, value: Any) -> None:
    with pytest.raises(InvalidRecord) as caught:
        chat_json.normalise(_payload(**{field: value}), SALT)

    assert caught.value.code == "missing_field"
    assert field in caught.value.message


@pytest.mark.parametrize("kind", [..., None, "follow", "TEXT", "sticker"])
def test_a_record_of_an_unknown_kind_is_invalid(kind: Any) -> None:
    with pytest.raises(InvalidRecord) as caught:
        chat_json.normalise(_payload(kind=kind), SALT)

    assert caught.value.code == "unknown_kind"


def test_a_record_whose_kind_is_a_list_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        chat_json.normalise(_payload(kind=["text"]), SALT)

    assert caught.value.code == "unknown_kind"


def test_the_member_id_is_pseudonymous_and_never_the_raw_sender_id() -> None:
    event = _chat()

    assert event.member_id.startswith("m_")
    assert len(event.member_id) == 34
    assert PHONE not in event.member_id
    assert PHONE not in event.model_dump_json()


def test_the_same_sender_gets_the_same_member_id_in_every_record() -> None:
    first = _chat(source_event_id="msg-1", kind="text")
    second = chat_json.normalise(_payload(source_event_id="msg-2", kind="join"), SALT)

    assert first.member_id == second.member_id


def test_the_member_id_depends_on_the_salt() -> None:
    assert chat_json.normalise(_payload(), b"salt-a").member_id != chat_json.normalise(_payload(), b"salt-b").member_id


def test_normalise_dispatches_chat_json_records_to_the_chat_json_normaliser() -> None:
    assert normalise("chat_json", _payload(), SALT) == chat_json.normalise(_payload(), SALT)


@pytest.mark.parametrize("source_format", ["telegram", "CHAT_JSON", "", "chat-json"])
def test_normalise_rejects_an_unknown_source_format(source_format: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalise(source_format, _payload(), SALT)

    assert caught.value.code == "unknown_source_format"


@pytest.mark.parametrize("source_format", [fmt.value for fmt in SourceFormat if fmt is not SourceFormat.CHAT_JSON])
def test_normalise_rejects_a_known_format_that_is_not_supported_yet(source_format: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        normalise(source_format, _payload(), SALT)

    assert caught.value.code == "unsupported_source_format"
