"""``notification.status.v1`` records: one per offer, channel and status, with a stable event id."""

from __future__ import annotations

from datetime import datetime

from shared.contracts import (
    Channel,
    DeliveryStatus,
    KafkaRecord,
    MemberConsentV1,
    NotificationStatusV1,
    derived_event_id,
    wrap,
)
from shared.contracts.topics import MEMBER_CONSENT, NOTIFICATION_STATUS

SOURCE = "memberpulse/notifier"


def status_record(
    member_id: str,
    offer_id: str,
    channel: Channel,
    status: DeliveryStatus,
    at: datetime,
    *,
    attempt: int = 1,
    provider_message_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> KafkaRecord:
    event = NotificationStatusV1(
        member_id=member_id,
        occurred_at=at,
        offer_id=offer_id,
        channel=channel,
        status=status,
        attempt=max(attempt, 1),
        provider_message_id=provider_message_id,
        error_code=error_code,
        error_message=error_message,
    )
    # A status happens once per offer and channel: a resumed send cannot report "sent" twice.
    event_id = derived_event_id("notification", offer_id, channel.value, status.value)
    return wrap(event, topic=NOTIFICATION_STATUS.name, source=SOURCE, event_id=event_id)


def consent_record(consent: MemberConsentV1, origin_id: str) -> KafkaRecord:
    """A consent change, with an id derived from what caused it (an inbound message or a token)."""
    event_id = derived_event_id("consent", consent.member_id, consent.channel.value, origin_id)
    return wrap(consent, topic=MEMBER_CONSENT.name, source=SOURCE, event_id=event_id)
