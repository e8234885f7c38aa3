"""Offers that campaigns issues, and the status the notifier reports back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from shared.contracts.base import MemberEvent


class MessageType(StrEnum):
    GREETING = "greeting"
    NOTIFICATION = "notification"
    NARRATIVE = "narrative"
    MARKETING = "marketing"


class Channel(StrEnum):
    SMS = "sms"
    WECHAT = "wechat"
    EMAIL = "email"
    WEBHOOK = "webhook"


class OfferIssuedV1(MemberEvent):
    """An offer to deliver to one member."""

    event_type: ClassVar[str] = "memberpulse.offer.issued.v1"

    offer_id: str
    campaign_id: str
    campaign_kind: str
    message_type: MessageType
    channels: tuple[Channel, ...] = Field(min_length=1, description="In order of preference")
    template: str
    locale: str = "zh-CN"
    variables: dict[str, str] = Field(default_factory=dict)
    sku: str | None = None
    coupon_code: str | None = None
    coupon_value_minor: int | None = None
    priority: int = 0
    expires_at: AwareDatetime | None = None
    # Quiet hours in the member's local time: the message must not be sent before this moment.
    deliver_after: AwareDatetime | None = None

    def expired_at(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class DeliveryStatus(StrEnum):
    # Accepted by the notifier, waiting for its turn (rate limits) or, when deferred, for quiet hours to end.
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class NotificationStatusV1(MemberEvent):
    """What happened to an offer's message on one channel."""

    event_type: ClassVar[str] = "memberpulse.notification.status.v1"

    offer_id: str
    channel: Channel
    status: DeliveryStatus
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempt: int = Field(default=1, ge=1)


class MemberConsentV1(MemberEvent):
    """A member's consent for marketing on one channel (latest value per member and channel wins)."""

    event_type: ClassVar[str] = "memberpulse.member.consent.v1"

    channel: Channel
    granted: bool
    source: str = Field(description="Where it came from, e.g. sms_reply_td, preference_center")


class NotificationReceiptV1(MemberEvent):
    """A provider's delivery receipt that reaches MemberPulse through ingest (WeChat TEMPLATESENDJOBFINISH)."""

    event_type: ClassVar[str] = "memberpulse.notification.receipt.v1"

    channel: Channel
    provider_message_id: str = Field(min_length=1, max_length=128)
    delivered: bool
    # The provider's own word, e.g. WeChat's "success", "failed:user block", "failed: system failed".
    provider_status: str = Field(max_length=128)
    source: str
