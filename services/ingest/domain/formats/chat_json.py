"""``chat_json``: chat and membership events from the chain's own apps (JSON)."""

from __future__ import annotations

from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats._common import identity_value, json_child, kind_of, message_text
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import ChatDraft, CommunityDraft, Identifier, IdKind, Ignored, Parsed
from services.ingest.domain.payloads import ParseContext, json_object, optional_str, required_str, rfc3339
from shared.contracts import ChatKind, CommunityAction

SOURCE = "chat_json"

# Older app releases send these short names; they mean the same identifiers.
_ID_TYPES: dict[str, IdKind] = {kind.value: kind for kind in IdKind} | {
    "card": IdKind.CARD_NO,
    "openid": IdKind.WECHAT_OPENID,
    "unionid": IdKind.WECHAT_UNIONID,
    "customer_id": IdKind.SHOP_CUSTOMER_ID,
    "app_user": IdKind.APP_USER_ID,
    "user_id": IdKind.APP_USER_ID,
}
_KINDS: dict[str, ChatKind | CommunityAction] = {
    "text": ChatKind.MESSAGE,
    "image": ChatKind.MESSAGE,
    "reply": ChatKind.REPLY,
    "reaction": ChatKind.REACTION,
    "topic": ChatKind.TOPIC_STARTED,
    "edit": ChatKind.EDIT,
    "recall": ChatKind.RECALL,
    "join": CommunityAction.JOIN,
    "leave": CommunityAction.LEAVE,
}


def parse(body: bytes, ctx: ParseContext) -> Parsed | Ignored:
    payload = json_object(body)
    event_id = required_str(payload, "source_event_id")
    community_id = required_str(payload, "community_id")
    sender = _sender(payload, ctx)
    occurred_at = rfc3339(payload.get("sent_at"), "sent_at", ctx.now)
    kind = kind_of(payload.get("kind"), "kind", _KINDS)
    if isinstance(kind, CommunityAction):
        return Parsed(SOURCE, event_id, (sender,), CommunityDraft(community_id, kind, occurred_at))
    draft = ChatDraft(
        community_id=community_id,
        kind=kind,
        occurred_at=occurred_at,
        text=message_text(payload.get("text"), "text"),
        store_id=optional_str(payload, "store_id"),
        reply_to=required_str(payload, "reply_to") if kind is ChatKind.REPLY else optional_str(payload, "reply_to"),
        refers_to=required_str(payload, "refers_to") if kind in (ChatKind.EDIT, ChatKind.RECALL) else None,
    )
    return Parsed(SOURCE, event_id, (sender,), draft)


def _sender(payload: dict[str, Any], ctx: ParseContext) -> Identifier:
    sender = json_child(payload, "sender", absent="empty_identity")
    id_type = sender.get("id_type")
    if id_type is None or id_type == "":
        raise InvalidRecord("missing_field", "sender.id_type is required")
    if not isinstance(id_type, str):
        raise InvalidRecord("invalid_field", f"sender.id_type must be a string, not {type(id_type).__name__}")
    raw = identity_value(sender.get("id"), "sender.id")
    # identifier() rejects a type that is neither an IdKind value nor an alias above with unknown_id_type.
    return identifier(_ID_TYPES.get(id_type, id_type), raw, ctx.salt, default_region=ctx.default_region)
