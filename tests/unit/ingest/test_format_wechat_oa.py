"""``wechat_oa``: WeChat Official Account pushes (XML) of follower messages and events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.domain.canonical import References, canonical_events
from services.ingest.domain.formats import wechat_oa
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, CommunityDraft, DeliveryReceiptDraft, IdKind, Ignored, Parsed
from shared.contracts import Channel, ChatKind, CommunityAction, NotificationReceiptV1
from tests.unit.ingest.support import CTX, GREETINGS, SALT, fixture, nested_json, rejection

ACCOUNT = "gh_3ad1f5c2b7e9"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
FOLLOWER = identifier(IdKind.WECHAT_OPENID, f"{ACCOUNT}:{OPENID}", SALT)
NOON = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TEXT_PUSH: dict[str, Any] = {
    "ToUserName": ACCOUNT,
    "FromUserName": OPENID,
    "CreateTime": "1795262400",
    "MsgType": "text",
    "Content": "今晚八点团购开始🎉",
    "MsgId": "24612345678901234",
}
RECEIPT_PUSH: dict[str, Any] = {
    "ToUserName": ACCOUNT,
    "FromUserName": OPENID,
    "CreateTime": "1795262400",
    "MsgType": "event",
    "Event": "TEMPLATESENDJOBFINISH",
    "MsgID": "200163836",
    "Status": "success",
}


def _push(base: dict[str, Any] = TEXT_PUSH, **changes: Any) -> bytes:
    """A push (text by default) with ``changes`` applied (``...`` leaves a field out), every field in CDATA."""
    fields = {tag: value for tag, value in (base | changes).items() if value is not ...}
    return (
        "<xml>" + "".join(f"<{tag}><![CDATA[{value}]]></{tag}>" for tag, value in fields.items()) + "</xml>"
    ).encode()


def _parse(body: bytes) -> Parsed:
    parsed = wechat_oa.parse(body, CTX)
    assert isinstance(parsed, Parsed)
    return parsed


def _code(body: bytes) -> str:
    return rejection(wechat_oa.parse, body)


def test_a_text_message_becomes_a_chat_message_keyed_by_its_msgid() -> None:
    assert wechat_oa.parse(fixture("wechat_oa", "text_zh.xml"), CTX) == Parsed(
        source="wechat_oa",
        dedup_key="24612345678901234",
        identifiers=(FOLLOWER,),
        body=ChatDraft(
            community_id=f"wechat_oa:{ACCOUNT}", kind=ChatKind.MESSAGE, occurred_at=NOON, text=GREETINGS["zh"]
        ),
    )


@pytest.mark.parametrize(("name", "language"), [("text_zh.xml", "zh"), ("text_kk.xml", "kk"), ("text_fa.xml", "fa")])
def test_text_is_kept_byte_exact_in_every_script(name: str, language: str) -> None:
    body = fixture("wechat_oa", name)
    draft = _parse(body).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == GREETINGS[language]
    assert draft.text.encode() in body


def test_text_keeps_its_surrounding_whitespace() -> None:
    draft = _parse(_push(Content="  8点见 👋 ")).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == "  8点见 👋 "


def test_escaped_text_without_cdata_reads_the_same() -> None:
    body = fixture("wechat_oa", "text_zh.xml").replace(b"<![CDATA[\xe4\xbb\x8a", b"&lt;b&gt;\xe4\xbb\x8a")
    body = body.replace("🎉]]>".encode(), "🎉".encode())
    draft = _parse(body).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == "<b>" + GREETINGS["zh"]


@pytest.mark.parametrize(
    ("name", "msgid"),
    [
        ("image.xml", "24612345678901402"),
        ("voice.xml", "24612345678901419"),
        ("video.xml", "24612345678901433"),
        ("shortvideo.xml", "24612345678901447"),
        ("location.xml", "24612345678901458"),
        ("link.xml", "24612345678901466"),
    ],
)
def test_other_messages_are_chat_messages_without_text(name: str, msgid: str) -> None:
    assert wechat_oa.parse(fixture("wechat_oa", name), CTX) == Parsed(
        "wechat_oa", msgid, (FOLLOWER,), ChatDraft(f"wechat_oa:{ACCOUNT}", ChatKind.MESSAGE, NOON)
    )


@pytest.mark.parametrize(
    ("name", "action", "dedup_key", "occurred_at"),
    [
        ("subscribe.xml", CommunityAction.FOLLOW, f"{OPENID}:1795262400:subscribe", NOON),
        ("subscribe_by_qr.xml", CommunityAction.FOLLOW, f"{OPENID}:1795262400:subscribe", NOON),
        ("unsubscribe.xml", CommunityAction.UNFOLLOW, f"{OPENID}:1795262405:unsubscribe", NOON.replace(second=5)),
    ],
)
def test_following_and_unfollowing_are_community_events_keyed_by_sender_time_and_event(
    name: str, action: CommunityAction, dedup_key: str, occurred_at: datetime
) -> None:
    assert wechat_oa.parse(fixture("wechat_oa", name), CTX) == Parsed(
        "wechat_oa", dedup_key, (FOLLOWER,), CommunityDraft(f"wechat_oa:{ACCOUNT}", action, occurred_at)
    )


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("click.xml", "CLICK"),
        ("view.xml", "VIEW"),
        ("scan.xml", "SCAN"),
    ],
)
def test_menu_clicks_and_scans_are_ignored_but_keyed(name: str, event: str) -> None:
    assert wechat_oa.parse(fixture("wechat_oa", name), CTX) == Ignored(
        "wechat_oa", reason="not_a_member_signal", dedup_key=f"{OPENID}:1795262400:{event}"
    )


def test_a_template_send_result_is_a_delivery_receipt_keyed_by_the_msgid_the_send_api_returned() -> None:
    assert wechat_oa.parse(fixture("wechat_oa", "templatesendjobfinish.xml"), CTX) == Parsed(
        "wechat_oa",
        "receipt:200163836",
        (FOLLOWER,),
        DeliveryReceiptDraft(Channel.WECHAT, "200163836", delivered=True, provider_status="success", occurred_at=NOON),
    )


@pytest.mark.parametrize("status", ["failed:user block", "failed: system failed", " failed:user block "])
def test_a_failed_template_send_is_an_undelivered_receipt_with_wechats_own_status(status: str) -> None:
    draft = _parse(_push(RECEIPT_PUSH, Status=status)).body

    assert isinstance(draft, DeliveryReceiptDraft)
    assert (draft.delivered, draft.provider_status) == (False, status.strip())


def test_a_receipt_names_the_same_follower_as_their_messages_and_keeps_its_key_whatever_else_changes() -> None:
    receipt = _parse(_push(RECEIPT_PUSH))
    retried = _parse(_push(RECEIPT_PUSH, CreateTime="1795262460", Status="failed: system failed"))

    assert receipt.identifiers == _parse(_push()).identifiers == (FOLLOWER,)
    assert retried.dedup_key == receipt.dedup_key == "receipt:200163836"
    assert _parse(_push(RECEIPT_PUSH, MsgID=" 200163836 ")).dedup_key == receipt.dedup_key
    assert _parse(_push(RECEIPT_PUSH, MsgID="200163837")).dedup_key != receipt.dedup_key


@pytest.mark.parametrize("field", ["MsgID", "Status"])
@pytest.mark.parametrize("value", [..., "", "  "], ids=["absent", "empty", "blank"])
def test_a_template_send_result_without_its_msgid_or_status_is_missing_it(field: str, value: Any) -> None:
    assert _code(_push(RECEIPT_PUSH, **{field: value})) == "missing_field"


def test_a_template_send_result_does_not_take_a_message_msgid_for_its_own() -> None:
    assert _code(_push(RECEIPT_PUSH, MsgID=..., MsgId="200163836")) == "missing_field"


def test_a_status_longer_than_the_contract_allows_is_invalid() -> None:
    assert _code(_push(RECEIPT_PUSH, Status="failed:" + "x" * 122)) == "invalid_field"


def test_a_receipt_becomes_a_notification_receipt_for_the_resolved_member() -> None:
    parsed = _parse(_push(RECEIPT_PUSH, Status="failed:user block"))

    assert canonical_events(parsed, "m_follower", References(stores={}, products={}), NOON) == [
        NotificationReceiptV1(
            member_id="m_follower",
            occurred_at=NOON,
            channel=Channel.WECHAT,
            provider_message_id="200163836",
            delivered=False,
            provider_status="failed:user block",
            source="wechat_oa",
        )
    ]


@pytest.mark.parametrize("event", ["LOCATION", "MASSSENDJOBFINISH", "Subscribe", "templatesendjobfinish"])
def test_events_ingest_does_not_know_are_ignored(event: str) -> None:
    parsed = wechat_oa.parse(_push(MsgType="event", Event=event, Content=..., MsgId=...), CTX)

    assert isinstance(parsed, Ignored)
    assert parsed.reason == "not_a_member_signal"


def test_openids_are_per_account_so_the_account_qualifies_the_identifier() -> None:
    other_account = _parse(_push(ToUserName="gh_9c1e07d4a2f6"))

    assert other_account.identifiers != _parse(_push()).identifiers
    assert other_account.identifiers == (identifier(IdKind.WECHAT_OPENID, f"gh_9c1e07d4a2f6:{OPENID}", SALT),)


def test_the_raw_openid_never_appears_in_the_parsed_record() -> None:
    assert OPENID not in repr(_parse(_push()))


def test_create_time_a_day_ahead_is_accepted_for_clock_skew() -> None:
    draft = _parse(_push(CreateTime="1795392000")).body

    assert isinstance(draft, ChatDraft)
    assert draft.occurred_at == datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "created",
    [
        pytest.param("946684799", id="before-2000"),
        pytest.param("1795392001", id="more-than-a-day-ahead"),
        pytest.param("4102444800", id="year-2100"),
        pytest.param("99999999999999999999", id="beyond-any-calendar"),
        pytest.param("-1", id="negative"),
    ],
)
def test_create_time_outside_2000_to_a_day_ahead_is_out_of_range(created: str) -> None:
    assert _code(_push(CreateTime=created)) == "timestamp_out_of_range"


@pytest.mark.parametrize("created", ["2026-11-21T12:00:00Z", "1795262400.5", "1795262400000000000000", "²"])
def test_create_time_that_is_not_integer_seconds_is_invalid(created: str) -> None:
    assert _code(_push(CreateTime=created)) == "invalid_timestamp"


@pytest.mark.parametrize("value", [..., "", "   "], ids=["absent", "empty", "blank"])
def test_a_push_without_a_sender_has_no_identity(value: Any) -> None:
    assert _code(_push(FromUserName=value)) == "empty_identity"


@pytest.mark.parametrize("field", ["ToUserName", "CreateTime", "MsgType", "MsgId"])
@pytest.mark.parametrize("value", [..., ""], ids=["absent", "empty"])
def test_a_push_without_a_required_field_is_missing_it(field: str, value: Any) -> None:
    assert _code(_push(**{field: value})) == "missing_field"


def test_a_text_message_without_content_is_missing_it() -> None:
    assert _code(_push(Content=...)) == "missing_field"


def test_an_empty_content_is_an_empty_text_message() -> None:
    draft = _parse(_push(Content="")).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == ""


def test_an_event_push_without_its_event_is_missing_it() -> None:
    assert _code(_push(MsgType="event", MsgId=..., Content=...)) == "missing_field"


@pytest.mark.parametrize("msg_type", ["miniprogrampage", "TEXT", "file", "transfer_customer_service"])
def test_a_message_type_wechat_does_not_push_is_an_unknown_kind(msg_type: str) -> None:
    assert _code(_push(MsgType=msg_type)) == "unknown_kind"


def test_text_longer_than_the_contract_allows_is_invalid() -> None:
    assert _code(_push(Content="长" * 20_001)) == "invalid_field"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", id="repeated-field"),
        pytest.param(b"<xml><Content><b>hi</b></Content></xml>", id="field-with-children"),
    ],
)
def test_a_field_that_is_not_a_single_text_element_is_invalid(body: bytes) -> None:
    assert _code(body) == "invalid_field"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b"", "empty_value", id="empty"),
        pytest.param(fixture("wechat_oa", "billion_laughs.xml"), "invalid_xml", id="billion-laughs"),
        pytest.param(fixture("wechat_oa", "external_entity.xml"), "invalid_xml", id="external-entity"),
        pytest.param(b"<xml><ToUserName>gh_3ad1f5c2b7e9</ToUserName>", "invalid_xml", id="unclosed"),
        pytest.param(b'{"MsgType": "text"}', "invalid_xml", id="json"),
        pytest.param(b"<root><MsgType>text</MsgType></root>", "invalid_xml", id="wrong-root"),
        pytest.param(b"<xml>&#0;</xml>", "invalid_xml", id="nul-character-reference"),
        pytest.param("<xml><Content>今晚</Content></xml>".encode("gb18030"), "invalid_utf8", id="gb18030"),
        pytest.param(b"<a>" * 33 + b"</a>" * 33, "too_deeply_nested", id="33-levels"),
        pytest.param(nested_json(3), "invalid_xml", id="json-object"),
    ],
)
def test_a_body_that_is_not_a_safe_xml_push_is_rejected(body: bytes, code: str) -> None:
    assert _code(body) == code


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "GBK", "x-unknown"])
def test_a_declared_encoding_cannot_reinterpret_the_utf8_bytes(encoding: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + _push()
    draft = _parse(body).body

    assert isinstance(draft, ChatDraft)
    assert draft.text == GREETINGS["zh"]
