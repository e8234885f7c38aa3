"""Canonical member events that ingest publishes."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import MemberEvent


class ChatKind(StrEnum):
    MESSAGE = "message"
    REPLY = "reply"
    REACTION = "reaction"
    TOPIC_STARTED = "topic_started"
    # An edit or a recall (WeCom "revoke") of an earlier message: a new event that names it in
    # ``refers_to``, so the original is neither duplicated nor silently rewritten.
    EDIT = "edit"
    RECALL = "recall"


class MemberChatV1(MemberEvent):
    """A member said something in a community: message, reply, reaction or a new topic."""

    event_type: ClassVar[str] = "memberpulse.member.chat.v1"

    community_id: str = Field(min_length=1, max_length=128)
    store_id: str | None = None
    kind: ChatKind
    # Byte-exact UTF-8 as the member wrote it: Chinese, Cyrillic, right-to-left scripts, emoji.
    text: str = Field(default="", max_length=20_000)
    reply_to: str | None = None
    refers_to: str | None = Field(default=None, description="For edit and recall: the source_event_id changed")
    source: str = Field(description="Upstream source format the event came from")
    source_event_id: str


class CommunityAction(StrEnum):
    JOIN = "join"
    LEAVE = "leave"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"


class MemberCommunityV1(MemberEvent):
    """A member joined or left a community, or followed or unfollowed an official account."""

    event_type: ClassVar[str] = "memberpulse.member.community.v1"

    community_id: str = Field(min_length=1, max_length=128)
    action: CommunityAction
    source: str
    source_event_id: str


class PurchaseKind(StrEnum):
    SALE = "sale"
    REFUND = "refund"


class PurchaseChannel(StrEnum):
    POS = "pos"
    ECOM = "ecom"


class PurchaseLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    category: str | None = Field(default=None, description="None when the SKU is not in the catalog")
    qty: int = Field(description="Units; positive for sales and refunds alike")
    unit_price_minor: int
    discount_minor: int = 0
    amount_minor: int = Field(description="Line total after discount, in minor units")


class MemberPurchaseV1(MemberEvent):
    """A sale or a refund. Refunds reference the original purchase and are never a second sale."""

    event_type: ClassVar[str] = "memberpulse.member.purchase.v1"

    purchase_id: str
    kind: PurchaseKind
    channel: PurchaseChannel
    store_id: str | None = None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: tuple[PurchaseLine, ...] = Field(min_length=1)
    total_minor: int
    original_purchase_id: str | None = None
    unknown_store: bool = False
    unknown_skus: tuple[str, ...] = ()
    source: str
    source_event_id: str


class MemberMergedV1(MemberEvent):
    """Two member ids turned out to be one person; ``member_id`` survives, the other is folded in."""

    event_type: ClassVar[str] = "memberpulse.member.merged.v1"

    merged_member_id: str = Field(min_length=1, max_length=128)
    reason: str
