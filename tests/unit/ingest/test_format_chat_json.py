"""``chat_json``: the chain's own apps send chat messages and community joins as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.domain.formats import chat_json
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, CommunityDraft, IdKind, Parsed
from services.ingest.domain.payloads import ParseContext
from shared.contracts import ChatKind, CommunityAction
from tests.unit.ingest.support import CTX, GREETINGS, SALT, fixture, json_fixture, nested_json, rejection

PHONE = identifier(IdKind.PHONE, "+8613800138000", SALT)


def _body(**changes: Any) -> bytes:
    return json_fixture("chat_json", "message_zh.json", **changes)


def _parse(body: bytes) -> Parsed:
    parsed = chat_json.parse(body, CTX)
    assert isinstance(parsed, Parsed)
    return parsed


def _chat(**changes: Any) -> ChatDraft:
    draft = _parse(_body(**changes)).body
    assert isinstance(draft, ChatDraft)
    return draft


def _code(**changes: Any) -> str:
    return rejection(chat_json.parse, _body(**changes))


def test_a_text_message_becomes_a_chat_message_keyed_by_its_source_event_id() -> None:
    assert chat_json.parse(fixture("chat_json", "message_zh.json"), CTX) == Parsed(
        source="chat_json",
        dedup_key="app-msg-7f3a9c2e",
        identifiers=(PHONE,),
        body=ChatDraft(
            community_id="store-021-vip",
            kind=ChatKind.MESSAGE,
            occurred_at=datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
            text="今晚八点团购开始🎉",
            store_id="store-021",
        ),
    )


@pytest.mark.parametrize(
    ("kind", "chat_kind"),
    [
        ("text", ChatKind.MESSAGE),
        ("image", ChatKind.MESSAGE),
        ("reaction", ChatKind.REACTION),
        ("topic", ChatKind.TOPIC_STARTED),
    ],
)
def test_each_chat_kind_becomes_the_matching_canonical_kind(kind: str, chat_kind: ChatKind) -> None:
    assert _chat(kind=kind).kind is chat_kind


@pytest.mark.parametrize(("kind", "action"), [("join", CommunityAction.JOIN), ("leave", CommunityAction.LEAVE)])
def test_join_and_leave_become_community_events(kind: str, action: CommunityAction) -> None:
    parsed = _parse(json_fixture("chat_json", "join.json", kind=kind))

    assert parsed.body == CommunityDraft("almaty-dostyk-club", action, datetime(2026, 11, 21, 11, 0, tzinfo=UTC))
    assert parsed.identifiers == (identifier(IdKind.APP_USER_ID, "u-55120943", SALT),)


@pytest.mark.parametrize(
    ("name", "language"), [("message_zh.json", "zh"), ("message_kk.json", "kk"), ("message_fa.json", "fa")]
)
def test_text_is_kept_byte_exact_in_every_script(name: str, language: str) -> None:
    body = fixture("chat_json", name)
    draft = _parse(body).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == GREETINGS[language]
    assert draft.text.encode() in body


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("  two spaces either side  ", id="surrounding-spaces"),
        pytest.param("line one\r\nline two\n", id="crlf"),
        pytest.param("Cafe\u0301 vs Café", id="decomposed-accent"),
        pytest.param("👨‍👩‍👧‍👦🇰🇿👍🏽", id="emoji-sequences"),
        pytest.param("x" * 20_000, id="at-the-limit"),
    ],
)
def test_text_is_never_stripped_or_normalised(text: str) -> None:
    assert _chat(text=text).text.encode() == text.encode()


def test_a_message_without_text_has_empty_text() -> None:
    assert _chat(kind="image", text=...).text == ""


def test_a_reply_names_the_message_it_answers() -> None:
    draft = _parse(fixture("chat_json", "reply.json")).body

    assert draft == ChatDraft(
        community_id="store-021-vip",
        kind=ChatKind.REPLY,
        occurred_at=datetime(2026, 11, 21, 12, 1, 12, tzinfo=UTC),
        text="我要两份 👍🏽",
        store_id="store-021",
        reply_to="app-msg-7f3a9c2e",
    )


def test_an_edit_names_the_message_it_changes_and_carries_the_new_text() -> None:
    parsed = _parse(fixture("chat_json", "edit.json"))

    assert parsed.dedup_key == "app-msg-7f3a9c44"
    assert isinstance(parsed.body, ChatDraft)
    assert (parsed.body.kind, parsed.body.refers_to) == (ChatKind.EDIT, "app-msg-7f3a9c2e")
    assert parsed.body.text == "今晚八点团购开始🎉 限量 200 份"


def test_a_recall_names_the_message_it_recalls() -> None:
    draft = _parse(fixture("chat_json", "recall.json")).body

    assert isinstance(draft, ChatDraft)
    assert (draft.kind, draft.refers_to, draft.text) == (ChatKind.RECALL, "app-msg-7f3a9c44", "")


def test_only_edits_and_recalls_refer_to_another_message() -> None:
    assert _chat(refers_to="app-msg-0000").refers_to is None


@pytest.mark.parametrize("refers_to", [..., None, ""])
@pytest.mark.parametrize("kind", ["edit", "recall"])
def test_an_edit_or_recall_that_names_no_message_is_missing_a_field(kind: str, refers_to: Any) -> None:
    assert _code(kind=kind, refers_to=refers_to) == "missing_field"


@pytest.mark.parametrize("reply_to", [..., None, ""])
def test_a_reply_that_names_no_message_is_missing_a_field(reply_to: Any) -> None:
    assert _code(kind="reply", reply_to=reply_to) == "missing_field"


def test_the_store_is_optional() -> None:
    assert _chat(store_id=None).store_id is None


@pytest.mark.parametrize(
    ("id_type", "kind"),
    [
        ("card", IdKind.CARD_NO),
        ("openid", IdKind.WECHAT_OPENID),
        ("unionid", IdKind.WECHAT_UNIONID),
        ("customer_id", IdKind.SHOP_CUSTOMER_ID),
        ("app_user", IdKind.APP_USER_ID),
        ("user_id", IdKind.APP_USER_ID),
        *[(kind.value, kind) for kind in IdKind if kind is not IdKind.PHONE],
    ],
)
def test_short_id_type_aliases_name_the_same_identifier_as_the_full_type(id_type: str, kind: IdKind) -> None:
    parsed = _parse(_body(sender={"id_type": id_type, "id": "  A-1024  "}))

    assert parsed.identifiers == (identifier(kind, "A-1024", SALT),)


@pytest.mark.parametrize("phone", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "+8613800138000"])
def test_phones_in_any_notation_name_the_same_member(phone: str) -> None:
    assert _parse(_body(sender={"id_type": "phone", "id": phone})).identifiers == (PHONE,)


def test_phones_without_a_country_code_are_read_in_the_default_region() -> None:
    almaty = ParseContext(salt=SALT, now=CTX.now, default_region="KZ")
    parsed = chat_json.parse(_body(sender={"id_type": "phone", "id": "8 701 234 5678"}), almaty)

    assert isinstance(parsed, Parsed)
    assert parsed.identifiers == (identifier(IdKind.PHONE, "+77012345678", SALT),)


def test_a_numeric_card_number_is_read_as_text() -> None:
    parsed = _parse(_body(sender={"id_type": "card_no", "id": 622100459981}))

    assert parsed.identifiers == (identifier(IdKind.CARD_NO, "622100459981", SALT),)


def test_the_raw_sender_id_never_appears_in_the_parsed_record() -> None:
    parsed = _parse(fixture("chat_json", "message_zh.json"))

    assert "13800138000" not in repr(parsed)
    assert "138 0013 8000" not in repr(parsed)


def test_the_identifier_depends_on_the_salt() -> None:
    other = ParseContext(salt=b"other-salt", now=CTX.now)

    assert chat_json.parse(_body(), other) != chat_json.parse(_body(), CTX)


@pytest.mark.parametrize(
    ("sent_at", "utc"),
    [
        ("2026-11-21T20:00:00+08:00", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        ("2026-11-21T15:30:00+03:30", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        ("2026-11-21T12:00:00Z", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        ("2026-11-21T07:00:00-05:00", datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
        pytest.param("2026-11-23T00:00:00Z", datetime(2026, 11, 23, tzinfo=UTC), id="a-day-of-clock-skew"),
    ],
)
def test_timestamps_are_converted_to_utc(sent_at: str, utc: datetime) -> None:
    occurred_at = _chat(sent_at=sent_at).occurred_at

    assert occurred_at == utc
    assert occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    "sent_at",
    [
        pytest.param("2026-11-21T20:00:00", id="naive"),
        pytest.param("2026-11-21", id="date-only"),
        pytest.param("yesterday evening", id="not-a-timestamp"),
        pytest.param("2026-11-21T20:00:00+25:00", id="offset-out-of-range"),
        pytest.param(1795262400, id="unix-seconds"),
    ],
)
def test_a_timestamp_without_a_valid_offset_is_invalid(sent_at: Any) -> None:
    assert _code(sent_at=sent_at) == "invalid_timestamp"


@pytest.mark.parametrize(
    "sent_at",
    [
        pytest.param("1999-12-31T23:59:59Z", id="before-2000"),
        pytest.param("2026-11-23T00:00:01Z", id="more-than-a-day-ahead"),
        pytest.param("2126-11-21T20:00:00+08:00", id="far-future"),
        pytest.param("9999-12-31T23:00:00-05:00", id="overflows-in-utc"),
        pytest.param("0001-01-01T00:00:00+01:00", id="underflows-in-utc"),
    ],
)
def test_a_timestamp_outside_2000_to_a_day_ahead_is_out_of_range(sent_at: str) -> None:
    assert _code(sent_at=sent_at) == "timestamp_out_of_range"


@pytest.mark.parametrize(
    ("sender", "code"),
    [
        pytest.param(..., "empty_identity", id="absent"),
        pytest.param(None, "empty_identity", id="null"),
        pytest.param({"id_type": "phone"}, "empty_identity", id="no-id"),
        pytest.param({"id_type": "phone", "id": None}, "empty_identity", id="null-id"),
        pytest.param({"id_type": "app_user_id", "id": "   "}, "empty_identity", id="blank-id"),
        pytest.param("+8613800138000", "invalid_field", id="not-an-object"),
        pytest.param({"id_type": "phone", "id": ["+8613800138000"]}, "invalid_field", id="id-not-a-string"),
        pytest.param({"id_type": "card_no", "id": True}, "invalid_field", id="id-a-boolean"),
        pytest.param({"id_type": "card_no", "id": "9" * 257}, "invalid_field", id="id-too-long"),
        pytest.param({"id": "+8613800138000"}, "missing_field", id="no-id-type"),
        pytest.param({"id_type": ["phone"], "id": "+8613800138000"}, "invalid_field", id="id-type-not-a-string"),
        pytest.param({"id_type": "email", "id": "a@example.com"}, "unknown_id_type", id="unknown-id-type"),
        pytest.param({"id_type": "PHONE", "id": "+8613800138000"}, "unknown_id_type", id="id-type-in-capitals"),
        pytest.param({"id_type": "phone", "id": "12"}, "invalid_phone", id="impossible-phone"),
    ],
)
def test_a_record_without_a_usable_sender_is_rejected(sender: Any, code: str) -> None:
    assert _code(sender=sender) == code


@pytest.mark.parametrize("field", ["source_event_id", "community_id", "sent_at"])
@pytest.mark.parametrize("value", [..., None, ""], ids=["absent", "null", "empty"])
def test_a_record_without_a_required_field_is_missing_it(field: str, value: Any) -> None:
    assert _code(**{field: value}) == "missing_field"


@pytest.mark.parametrize("field", ["source_event_id", "community_id", "store_id", "reply_to"])
@pytest.mark.parametrize("value", [["msg-1"], {"id": "msg-1"}, 1.5, True], ids=["list", "object", "float", "bool"])
def test_an_id_field_of_the_wrong_type_is_invalid(field: str, value: Any) -> None:
    assert _code(**{field: value}) == "invalid_field"


def test_a_community_id_longer_than_the_contract_allows_is_invalid() -> None:
    assert _code(community_id="c" * 129) == "invalid_field"


@pytest.mark.parametrize("kind", [..., None, ""])
def test_a_record_without_a_kind_is_missing_it(kind: Any) -> None:
    assert _code(kind=kind) == "missing_field"


@pytest.mark.parametrize("kind", ["follow", "TEXT", "sticker", "message"])
def test_a_record_of_an_unknown_kind_is_rejected(kind: str) -> None:
    assert _code(kind=kind) == "unknown_kind"


@pytest.mark.parametrize("kind", [["text"], 1, {"kind": "text"}])
def test_a_kind_that_is_not_a_string_is_invalid(kind: Any) -> None:
    assert _code(kind=kind) == "invalid_field"


@pytest.mark.parametrize("text", [["not", "a", "string"], 42, {"zh": "你好"}, "x" * 20_001])
def test_text_that_is_not_a_string_or_too_long_is_invalid(text: Any) -> None:
    assert _code(text=text) == "invalid_field"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b"", "empty_value", id="empty"),
        pytest.param('{"text": "今晚"}'.encode("gb18030"), "invalid_utf8", id="gb18030"),
        pytest.param(b'{"text": "\xff\xfe"}', "invalid_utf8", id="stray-bytes"),
        pytest.param(b'{"source_event_id": "app-msg-1",', "invalid_json", id="truncated"),
        pytest.param(b'["app-msg-1"]', "invalid_json", id="not-an-object"),
        pytest.param(b'{"source_event_id": ' + b"1" * 5000 + b"}", "invalid_json", id="5000-digit-number"),
        pytest.param(nested_json(33), "too_deeply_nested", id="33-levels"),
        pytest.param(nested_json(100_000), "too_deeply_nested", id="100000-levels"),
    ],
)
def test_a_body_that_is_not_a_sane_json_object_is_rejected(body: bytes, code: str) -> None:
    assert rejection(chat_json.parse, body) == code


def test_text_with_an_unpaired_surrogate_escape_is_invalid_json() -> None:
    body = _body(text="placeholder").replace(b"placeholder", b"\\ud83c")

    assert rejection(chat_json.parse, body) == "invalid_json"
