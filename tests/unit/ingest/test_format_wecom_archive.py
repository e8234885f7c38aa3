"""``wecom_archive``: WeCom chat-archive records (JSON) of what external contacts said in chats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.domain.formats import wecom_archive
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, IdKind, Ignored, Parsed
from shared.contracts import ChatKind
from tests.unit.ingest.support import CTX, GREETINGS, SALT, fixture, json_fixture, nested_json, rejection

CUSTOMER = "wmErxtDgAA9AW32YyyuYRimKr7D1KWlw"
MEMBER = identifier(IdKind.WECOM_EXTERNAL_ID, CUSTOMER, SALT)
GROUP = "wecom:wrErxtDgAAfsPqBRcYzQ0rX5hk1nUBtw"
SENT_AT = datetime(2026, 11, 21, 13, 30, 15, 123_000, tzinfo=UTC)


def _body(**changes: Any) -> bytes:
    return json_fixture("wecom_archive", "text_group_zh.json", **changes)


def _parse(body: bytes) -> Parsed:
    parsed = wecom_archive.parse(body, CTX)
    assert isinstance(parsed, Parsed)
    return parsed


def _chat(body: bytes) -> ChatDraft:
    draft = _parse(body).body
    assert isinstance(draft, ChatDraft)
    return draft


def _code(**changes: Any) -> str:
    return rejection(wecom_archive.parse, _body(**changes))


def test_a_customers_text_in_a_group_becomes_a_chat_message_keyed_by_its_msgid() -> None:
    assert wecom_archive.parse(fixture("wecom_archive", "text_group_zh.json"), CTX) == Parsed(
        source="wecom_archive",
        dedup_key="8891446340739254950_1795267815",
        identifiers=(MEMBER,),
        body=ChatDraft(community_id=GROUP, kind=ChatKind.MESSAGE, occurred_at=SENT_AT, text=GREETINGS["zh"]),
    )


def test_a_direct_message_from_a_wo_contact_belongs_to_the_direct_community() -> None:
    parsed = _parse(fixture("wecom_archive", "text_direct_kk.json"))

    assert parsed.identifiers == (identifier(IdKind.WECOM_EXTERNAL_ID, "woErxtDgAAk2pQ9sLm4vB7nX1cZ8rT5y", SALT),)
    assert isinstance(parsed.body, ChatDraft)
    assert parsed.body.community_id == "wecom:direct"


@pytest.mark.parametrize(
    ("name", "language"), [("text_group_zh.json", "zh"), ("text_direct_kk.json", "kk"), ("text_fa.json", "fa")]
)
def test_text_is_kept_byte_exact_in_every_script(name: str, language: str) -> None:
    body = fixture("wecom_archive", name)
    draft = _chat(body)

    assert draft.text == GREETINGS[language]
    assert draft.text.encode() in body


def test_text_is_never_stripped() -> None:
    assert _chat(_body(text={"content": " 好的\n"})).text == " 好的\n"


@pytest.mark.parametrize("name", ["image.json", "redpacket.json"])
def test_content_without_text_is_a_chat_message_with_empty_text(name: str) -> None:
    draft = _chat(fixture("wecom_archive", name))

    assert (draft.kind, draft.text, draft.community_id) == (ChatKind.MESSAGE, "", GROUP)


@pytest.mark.parametrize("msgtype", ["voice", "video", "file", "link", "location", "weapp", "chatrecord", "mixed"])
def test_every_content_message_type_is_a_chat_message(msgtype: str) -> None:
    assert _chat(_body(msgtype=msgtype, text=...)).kind is ChatKind.MESSAGE


def test_an_emotion_sticker_is_a_reaction() -> None:
    draft = _chat(fixture("wecom_archive", "emotion.json"))

    assert (draft.kind, draft.text) == (ChatKind.REACTION, "")


def test_a_recall_names_the_message_it_recalls() -> None:
    parsed = _parse(fixture("wecom_archive", "revoke.json"))

    assert parsed.dedup_key == "8891446340739255471_1795268100"
    assert parsed.body == ChatDraft(
        community_id=GROUP,
        kind=ChatKind.RECALL,
        occurred_at=datetime(2026, 11, 21, 13, 35, tzinfo=UTC),
        refers_to="8891446340739254950_1795267815",
    )


@pytest.mark.parametrize(("action", "msgtype"), [("recall", "revoke"), ("recall", "text"), ("send", "revoke")])
def test_either_a_recall_action_or_a_revoke_message_type_is_a_recall(action: str, msgtype: str) -> None:
    draft = _chat(_body(action=action, msgtype=msgtype, revoke={"pre_msgid": "8891446340739254950_1795267815"}))

    assert (draft.kind, draft.refers_to) == (ChatKind.RECALL, "8891446340739254950_1795267815")


@pytest.mark.parametrize("revoke", [..., None, {}, {"pre_msgid": ""}], ids=["absent", "null", "empty", "blank-id"])
def test_a_recall_that_names_no_message_is_missing_a_field(revoke: Any) -> None:
    assert _code(action="recall", msgtype="revoke", revoke=revoke) == "missing_field"


def test_a_device_switch_is_ignored_but_keyed() -> None:
    assert wecom_archive.parse(fixture("wecom_archive", "switch.json"), CTX) == Ignored(
        "wecom_archive", reason="not_a_member_signal", dedup_key="125289002219525886280"
    )


def test_a_customers_consent_to_archiving_is_ignored() -> None:
    assert wecom_archive.parse(fixture("wecom_archive", "agree.json"), CTX) == Ignored(
        "wecom_archive", reason="not_a_member_signal", dedup_key="8891446340739255500_1795268200"
    )


@pytest.mark.parametrize("sender", ["LiXiaoMing", "zhangsan", "10086", "Wm-upper-case-is-staff"])
def test_messages_from_staff_are_ignored(sender: str) -> None:
    assert wecom_archive.parse(_body(**{"from": sender}), CTX) == Ignored(
        "wecom_archive", reason="staff_message", dedup_key="8891446340739254950_1795267815"
    )


def test_a_staff_fixture_message_is_ignored() -> None:
    parsed = wecom_archive.parse(fixture("wecom_archive", "staff_text.json"), CTX)

    assert isinstance(parsed, Ignored)
    assert parsed.reason == "staff_message"


def test_the_raw_external_id_never_appears_in_the_parsed_record() -> None:
    assert CUSTOMER not in repr(_parse(_body()))


def test_the_archive_time_keeps_its_milliseconds() -> None:
    assert _chat(_body(msgtime=1795267815999)).occurred_at == SENT_AT.replace(microsecond=999_000)


@pytest.mark.parametrize(
    "msgtime",
    [
        pytest.param(946684799999, id="before-2000"),
        pytest.param(1795392000001, id="more-than-a-day-ahead"),
        pytest.param(4102444800000, id="year-2100"),
        pytest.param(10**300, id="beyond-any-calendar"),
        pytest.param(1795267815, id="seconds-read-as-milliseconds-is-1970"),
    ],
)
def test_a_msgtime_outside_2000_to_a_day_ahead_is_out_of_range(msgtime: int) -> None:
    assert _code(msgtime=msgtime) == "timestamp_out_of_range"


@pytest.mark.parametrize("msgtime", [1795267815123.5, "2026-11-21T13:30:15Z", [1795267815123], True])
def test_a_msgtime_that_is_not_integer_milliseconds_is_invalid(msgtime: Any) -> None:
    assert _code(msgtime=msgtime) == "invalid_timestamp"


@pytest.mark.parametrize("sender", [..., None, "", "  "], ids=["absent", "null", "empty", "blank"])
def test_a_record_without_a_sender_has_no_identity(sender: Any) -> None:
    assert _code(**{"from": sender}) == "empty_identity"


@pytest.mark.parametrize("sender", [[CUSTOMER], {"id": CUSTOMER}, True])
def test_a_sender_that_is_not_a_string_is_invalid(sender: Any) -> None:
    assert _code(**{"from": sender}) == "invalid_field"


@pytest.mark.parametrize("field", ["msgid", "action", "msgtype", "msgtime"])
@pytest.mark.parametrize("value", [..., None, ""], ids=["absent", "null", "empty"])
def test_a_record_without_a_required_field_is_missing_it(field: str, value: Any) -> None:
    assert _code(**{field: value}) == "missing_field"


@pytest.mark.parametrize("text", [..., None], ids=["absent", "null"])
def test_a_text_message_without_its_text_is_missing_it(text: Any) -> None:
    assert _code(text=text) == "missing_field"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"msgid": ["8891446340739254950"]}, id="msgid-a-list"),
        pytest.param({"action": 1}, id="action-a-number"),
        pytest.param({"msgtype": {"text": True}}, id="msgtype-an-object"),
        pytest.param({"roomid": ["wrErxtDgAAfsPqBRcYzQ0rX5hk1nUBtw"]}, id="roomid-a-list"),
        pytest.param({"roomid": "wr" * 40}, id="roomid-too-long"),
        pytest.param({"tolist": "LiXiaoMing"}, id="tolist-a-string"),
        pytest.param({"tolist": [{"userid": "LiXiaoMing"}]}, id="tolist-of-objects"),
        pytest.param({"text": "今晚八点团购开始🎉"}, id="text-not-an-object"),
        pytest.param({"text": {"content": 42}}, id="content-a-number"),
        pytest.param({"text": {"content": "长" * 20_001}}, id="content-too-long"),
    ],
)
def test_a_field_of_the_wrong_type_or_size_is_invalid(changes: dict[str, Any]) -> None:
    assert _code(**changes) == "invalid_field"


@pytest.mark.parametrize(("field", "value"), [("action", "forward"), ("msgtype", "sticker"), ("msgtype", "TEXT")])
def test_an_action_or_message_type_wecom_does_not_define_is_an_unknown_kind(field: str, value: str) -> None:
    assert _code(**{field: value}) == "unknown_kind"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b"", "empty_value", id="empty"),
        pytest.param(b'{"msgid": "\xe4\xbb"}', "invalid_utf8", id="truncated-utf8"),
        pytest.param(b'{"msgid": "8891446340739254950_1795267815"', "invalid_json", id="truncated"),
        pytest.param(b"null", "invalid_json", id="null"),
        pytest.param(nested_json(40), "too_deeply_nested", id="40-levels"),
    ],
)
def test_a_body_that_is_not_a_sane_json_object_is_rejected(body: bytes, code: str) -> None:
    assert rejection(wecom_archive.parse, body) == code


@pytest.mark.parametrize("staff", ["wong.li", "wm", "wmLi", "woman_on_duty"])
def test_a_staff_id_that_merely_starts_like_a_customer_id_is_still_staff(staff: str) -> None:
    record = {
        "msgid": "m-staff",
        "action": "send",
        "from": staff,
        "tolist": ["wmErxtDgAA9AW32YyyuYRimKr7D1KWlw"],
        "roomid": "wr1",
        "msgtime": 1_714_560_000_000,
        "msgtype": "text",
        "text": {"content": "早上好"},
    }
    result = wecom_archive.parse(json.dumps(record).encode(), CTX)
    assert isinstance(result, Ignored)
    assert result.reason == "staff_message"
