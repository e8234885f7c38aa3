"""The ``chat_json`` format of the chain's own apps, normalised to canonical member events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.identity import pseudonymous_member_id
from shared.contracts import ChatKind, CommunityAction, MemberChatV1, MemberCommunityV1

SOURCE = "chat_json"
_CHAT_KINDS = {
    "text": ChatKind.MESSAGE,
    "image": ChatKind.MESSAGE,
    "reply": ChatKind.REPLY,
    "reaction": ChatKind.REACTION,
    "topic": ChatKind.TOPIC_STARTED,
}
_COMMUNITY_KINDS = {"join": CommunityAction.JOIN, "leave": CommunityAction.LEAVE}


def normalise(payload: dict[str, Any], salt: bytes) -> MemberChatV1 | MemberCommunityV1:
    source_event_id = _required_str(payload, "source_event_id")
    community_id = _required_str(payload, "community_id")
    sender = payload.get("sender")
    if not isinstance(sender, dict) or not sender.get("id") or not sender.get("id_type"):
        raise InvalidRecord("missing_field", "sender{id_type,id} is required")
    member_id = pseudonymous_member_id(str(sender["id_type"]), str(sender["id"]), salt)
    occurred_at = _utc(_required_str(payload, "sent_at"))
    kind = payload.get("kind")
    if not isinstance(kind, str):
        raise InvalidRecord("unknown_kind", f"kind must be a string, got {type(kind).__name__}")
    if kind in _COMMUNITY_KINDS:
        return MemberCommunityV1(
            member_id=member_id,
            occurred_at=occurred_at,
            community_id=community_id,
            action=_COMMUNITY_KINDS[kind],
            source=SOURCE,
            source_event_id=source_event_id,
        )
    if kind not in _CHAT_KINDS:
        raise InvalidRecord("unknown_kind", f"kind {kind!r} is not one of {sorted({*_CHAT_KINDS, *_COMMUNITY_KINDS})}")
    text = payload.get("text") or ""
    if not isinstance(text, str):
        raise InvalidRecord("invalid_field", "text must be a string")
    return MemberChatV1(
        member_id=member_id,
        occurred_at=occurred_at,
        community_id=community_id,
        store_id=payload.get("store_id"),
        kind=_CHAT_KINDS[kind],
        text=text,
        reply_to=payload.get("reply_to"),
        source=SOURCE,
        source_event_id=source_event_id,
    )


def _required_str(payload: dict[str, Any], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidRecord("missing_field", f"{field} is required and must be a non-empty string")
    return value


def _utc(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            raise InvalidRecord("invalid_timestamp", f"{text!r} has no UTC offset")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, InvalidRecord):
            raise
        raise InvalidRecord("invalid_timestamp", f"{text!r} is not a representable RFC 3339 timestamp") from None
