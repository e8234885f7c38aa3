"""``wecom_archive``: WeCom (企业微信) chat-archive records, one decrypted message per record (JSON)."""

from __future__ import annotations

import re
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats._common import identity_value, json_child, kind_of, message_text
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, IdKind, Ignored, Parsed
from services.ingest.domain.payloads import ParseContext, json_object, optional_str, required_str, unix_time
from shared.contracts import ChatKind

SOURCE = "wecom_archive"

_ACTIONS = {"send": "send", "recall": "recall", "switch": "switch"}
# External contacts (customers) have ids WeCom issues: "wo" or "wm" and 30 more id characters
# (32 in all). Staff user ids are chosen by the company, so "wong.li" must not pass as a customer
# on its prefix alone; the length and alphabet are checked too (at least 24 characters allowed).
_EXTERNAL_ID = re.compile(r"w[om][A-Za-z0-9_-]{22,62}")
# Message types that carry content but no text we keep: the member said something, so it is activity.
_CONTENT_TYPES = (
    "image", "voice", "video", "file", "link", "location", "card", "weapp", "chatrecord", "mixed", "markdown",
    "news", "docmsg", "todo", "vote", "collect", "calendar", "meeting", "redpacket", "external_redpacket", "sphfeed",
)  # fmt: skip
# A customer's consent (or refusal) to archiving, not something they said.
_CONSENT_TYPES = ("agree", "disagree")
_MSG_TYPES = {msgtype: msgtype for msgtype in ("text", "emotion", "revoke", *_CONTENT_TYPES, *_CONSENT_TYPES)}


def parse(body: bytes, ctx: ParseContext) -> Parsed | Ignored:
    record = json_object(body)
    msgid = required_str(record, "msgid")
    action = kind_of(record.get("action"), "action", _ACTIONS)
    if action == "switch":  # a staff member switched devices: no sender, no message
        return Ignored(SOURCE, reason="not_a_member_signal", dedup_key=msgid)
    sender = identity_value(record.get("from"), "from")
    if not _EXTERNAL_ID.fullmatch(sender):
        return Ignored(SOURCE, reason="staff_message", dedup_key=msgid)
    member = (identifier(IdKind.WECOM_EXTERNAL_ID, sender, ctx.salt),)
    _check_tolist(record)
    sent_at = unix_time(record.get("msgtime"), "msgtime", ctx.now, millis=True)
    room = optional_str(record, "roomid", max_length=64)
    community_id = f"wecom:{room}" if room else "wecom:direct"
    msgtype = kind_of(record.get("msgtype"), "msgtype", _MSG_TYPES)
    if msgtype in _CONSENT_TYPES:
        return Ignored(SOURCE, reason="not_a_member_signal", dedup_key=msgid)
    if action == "recall" or msgtype == "revoke":
        refers_to = required_str(json_child(record, "revoke"), "pre_msgid")
        return Parsed(SOURCE, msgid, member, ChatDraft(community_id, ChatKind.RECALL, sent_at, refers_to=refers_to))
    if msgtype == "text":
        text = message_text(json_child(record, "text").get("content"), "text.content", required=True)
        return Parsed(SOURCE, msgid, member, ChatDraft(community_id, ChatKind.MESSAGE, sent_at, text=text))
    kind = ChatKind.REACTION if msgtype == "emotion" else ChatKind.MESSAGE
    return Parsed(SOURCE, msgid, member, ChatDraft(community_id, kind, sent_at))


def _check_tolist(record: dict[str, Any]) -> None:
    tolist = record.get("tolist", [])
    if not isinstance(tolist, list) or not all(isinstance(to, str) for to in tolist):
        raise InvalidRecord("invalid_field", "tolist must be a list of user ids")
