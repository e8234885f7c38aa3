"""``wechat_oa``: WeChat Official Account message and event pushes (XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats._common import identity_value, kind_of, message_text
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, CommunityDraft, DeliveryReceiptDraft, IdKind, Ignored, Parsed
from services.ingest.domain.payloads import ParseContext, required_str, unix_time, xml_element
from shared.contracts import Channel, ChatKind, CommunityAction

SOURCE = "wechat_oa"

_EVENT = "event"
# Every member message is a plain message here: WeChat pushes carry no replies or reactions.
_MSG_TYPES = {kind: kind for kind in ("text", "image", "voice", "video", "shortvideo", "location", "link", _EVENT)}
# Only (un)following is a member signal; menu clicks and QR scans are not.
_FOLLOW_EVENTS = {"subscribe": CommunityAction.FOLLOW, "unsubscribe": CommunityAction.UNFOLLOW}
# The result of a template message the notifier sent: carried to it as a delivery receipt.
_TEMPLATE_RECEIPT = "TEMPLATESENDJOBFINISH"


def parse(body: bytes, ctx: ParseContext) -> Parsed | Ignored:
    fields = _fields(xml_element(body))
    account = required_str(fields, "ToUserName", max_length=64).strip()
    openid = identity_value(fields.get("FromUserName"), "FromUserName")
    created = unix_time(fields.get("CreateTime"), "CreateTime", ctx.now)
    msg_type = kind_of(fields.get("MsgType", "").strip(), "MsgType", _MSG_TYPES)
    # Openids are per account, so the account qualifies the identifier.
    member = (identifier(IdKind.WECHAT_OPENID, f"{account}:{openid}", ctx.salt),)
    community_id = f"wechat_oa:{account}"
    if msg_type == _EVENT:
        event = required_str(fields, "Event").strip()
        if event == _TEMPLATE_RECEIPT:
            # MsgID (so spelled here) is the msgid the template send API returned: one receipt per message.
            msg_id = required_str(fields, "MsgID").strip()
            status = required_str(fields, "Status").strip()  # "success", "failed:user block", ...
            receipt = DeliveryReceiptDraft(Channel.WECHAT, msg_id, status == "success", status, created)
            return Parsed(SOURCE, f"receipt:{msg_id}", member, receipt)
        # Other events carry no MsgId: WeChat advises deduplicating them on FromUserName + CreateTime, and the
        # event name keeps a subscribe and a menu click in the same second apart.
        dedup_key = f"{openid}:{int(created.timestamp())}:{event}"
        if event not in _FOLLOW_EVENTS:
            return Ignored(SOURCE, reason="not_a_member_signal", dedup_key=dedup_key)
        return Parsed(SOURCE, dedup_key, member, CommunityDraft(community_id, _FOLLOW_EVENTS[event], created))
    text = message_text(fields.get("Content"), "Content", required=True) if msg_type == "text" else ""
    draft = ChatDraft(community_id, ChatKind.MESSAGE, created, text=text)
    return Parsed(SOURCE, required_str(fields, "MsgId").strip(), member, draft)


def _fields(root: ET.Element) -> dict[str, str]:
    """The push's fields: the root's child elements, each a leaf that appears once."""
    if root.tag != "xml":
        raise InvalidRecord("invalid_xml", f"the root element must be <xml>, not <{root.tag[:64]}>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child) or child.tag in fields:
            raise InvalidRecord("invalid_field", f"<{child.tag[:64]}> must be a single text element")
        fields[child.tag] = child.text or ""
    return fields
