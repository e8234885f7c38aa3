"""Whatever bytes arrive, a format adapter answers Parsed or Ignored, or rejects with InvalidRecord: never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats import chat_json, wechat_oa, wecom_archive
from services.ingest.domain.model import ChatDraft, CommunityDraft, DeliveryReceiptDraft, IdKind, Ignored, Parsed
from tests.unit.ingest.support import CTX, Parser

PROPERTY = settings(max_examples=300, deadline=None)

# Any JSON value: the wrong type for every field sooner or later.
JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
IDS = st.text(min_size=1, max_size=24)
OFFSETS = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)).map(timezone)
# Plausible times lie in the accepted range (2000 to a day past CTX.now); the wrong values test the rest.
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 11, 21))
RFC3339 = st.builds(lambda at, tz: at.replace(tzinfo=tz).isoformat(), INSTANTS, OFFSETS)
UNIX_SECONDS = st.integers(min_value=946_684_800, max_value=1_795_392_000)
ABSENT = object()


def _field(plausible: st.SearchStrategy[Any], wrong: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, so whole records often get through; sometimes a wrong one, or none at all."""
    return st.integers(0, 19).flatmap(lambda roll: plausible if roll < 17 else wrong if roll < 19 else st.just(ABSENT))


def _fields(fields: dict[str, st.SearchStrategy[Any]], wrong: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[Any]:
    record = st.fixed_dictionaries({field: _field(value, wrong) for field, value in fields.items()})
    return record.map(lambda record: {field: value for field, value in record.items() if value is not ABSENT})


def _json_record(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[bytes]:
    return _fields(fields).map(lambda record: json.dumps(record, ensure_ascii=False).encode())


def _check(parse: Parser, source: str, body: bytes) -> None:
    try:
        result = parse(body, CTX)
    except InvalidRecord:
        return
    assert isinstance(result, Parsed | Ignored)
    assert result.source == source
    if isinstance(result, Parsed):
        assert result.dedup_key
        assert isinstance(result.body, ChatDraft | CommunityDraft | DeliveryReceiptDraft)
        assert result.body.occurred_at.tzinfo is UTC
    if isinstance(result, Parsed) and isinstance(result.body, ChatDraft):
        assert len(result.body.text) <= 20_000


CHAT_JSON = _json_record(
    {
        "source_event_id": IDS,
        "community_id": IDS,
        "store_id": IDS | st.none(),
        "sender": _fields(
            {
                "id_type": st.sampled_from([*IdKind, "card", "openid", "app_user", "user_id", "email"]),
                "id": IDS | st.integers() | st.from_regex(r"\+?[0-9 ]{5,16}", fullmatch=True),
            }
        ),
        "sent_at": RFC3339,
        "kind": st.sampled_from(
            ["text", "image", "reply", "reaction", "topic", "edit", "recall", "join", "leave", "x"]
        ),
        "text": st.text(),
        "reply_to": IDS,
        "refers_to": IDS,
    }
)


@PROPERTY
@given(st.binary() | CHAT_JSON)
def test_chat_json_parses_or_rejects_any_body(body: bytes) -> None:
    _check(chat_json.parse, "chat_json", body)


WECOM_ARCHIVE = _json_record(
    {
        "msgid": IDS,
        "action": st.sampled_from(["send", "recall", "switch", "forward"]),
        "from": st.sampled_from(["wmErxtDgAA9AW32YyyuYRimKr7D1KWlw", "woErxtDgAAk2pQ9sLm4vB7nX1cZ8rT5y", "LiXiaoMing"])
        | IDS,
        "tolist": st.lists(IDS, max_size=3),
        "roomid": IDS | st.just(""),
        "msgtime": UNIX_SECONDS.map(lambda seconds: seconds * 1000),
        "msgtype": st.sampled_from(["text", "image", "revoke", "emotion", "redpacket", "agree", "sticker"]),
        "text": _fields({"content": st.text()}),
        "revoke": _fields({"pre_msgid": IDS}),
    }
)


@PROPERTY
@given(st.binary() | WECOM_ARCHIVE)
def test_wecom_archive_parses_or_rejects_any_body(body: bytes) -> None:
    _check(wecom_archive.parse, "wecom_archive", body)


# Mostly characters XML can carry, so generated pushes get past the parser; the wrong values may be any text.
XML_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=24)


def _element(tag: str, text: str, cdata: bool) -> str:
    return f"<{tag}><![CDATA[{text}]]></{tag}>" if cdata else f"<{tag}>{escape(text)}</{tag}>"


def _xml_push(fields: dict[str, str], cdata: bool) -> bytes:
    return ("<xml>" + "".join(_element(tag, text, cdata) for tag, text in fields.items()) + "</xml>").encode()


WECHAT_OA = st.builds(
    _xml_push,
    _fields(
        {
            "ToUserName": st.just("gh_3ad1f5c2b7e9"),
            "FromUserName": st.just("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
            "CreateTime": UNIX_SECONDS.map(str),
            "MsgType": st.sampled_from(["text", "image", "voice", "location", "link", "event", "file"]),
            "Content": XML_TEXT,
            "MsgId": st.integers(min_value=0).map(str),
            "Event": st.sampled_from(["subscribe", "unsubscribe", "CLICK", "SCAN", "TEMPLATESENDJOBFINISH"]),
            "MsgID": st.integers(min_value=0).map(str),
            "Status": st.sampled_from(["success", "failed:user block", "failed: system failed"]) | XML_TEXT,
        },
        wrong=st.text(max_size=12),
    ),
    st.booleans(),
)


@PROPERTY
@given(st.binary() | WECHAT_OA)
def test_wechat_oa_parses_or_rejects_any_body(body: bytes) -> None:
    _check(wechat_oa.parse, "wechat_oa", body)
