"""What members and providers send back: opt-out replies, unsubscribe links and delivery receipts.

A consent change is written to the notifier's own table in the same transaction as its
``member.consent.v1`` outbox row, so it holds for the very next send, before any other
service has heard of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.notifier.adapters import contact_repository, send_ledger
from services.notifier.adapters import metrics as notifier_metrics
from services.notifier.domain import unsubscribe
from services.notifier.domain.replies import ReplyKind, classify_reply
from services.notifier.service_layer.statuses import consent_record, status_record
from shared.contracts import Channel, DeliveryStatus, KafkaRecord, MemberConsentV1, derived_event_id
from shared.postgres import outbox


class ReplyResult(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    REPLY = "reply"
    UNKNOWN_SENDER = "unknown_sender"


@dataclass(frozen=True)
class SmsReply:
    phone: str  # E.164
    text: str
    received_at: datetime
    message_id: str | None = None


class TokenSpent(Exception):
    """The unsubscribe link was used before; the consent it gave stands."""


async def record_sms_reply(pool: Any, reply: SmsReply) -> tuple[ReplyResult, int]:
    """Apply one inbound SMS; returns what it was and how many members it concerned."""
    kind = classify_reply(reply.text)
    if kind is ReplyKind.OTHER:
        notifier_metrics.INBOUND.labels(kind="sms_reply", result=ReplyResult.REPLY.value).inc()
        return ReplyResult.REPLY, 0
    granted = kind is ReplyKind.OPT_IN
    result = ReplyResult.OPTED_IN if granted else ReplyResult.OPTED_OUT
    origin = reply.message_id or derived_event_id("sms-reply", reply.phone, reply.text, reply.received_at.isoformat())
    async with pool.acquire() as conn, conn.transaction():
        members = await contact_repository.members_with_phone(conn, reply.phone)
        consents = [
            MemberConsentV1(
                member_id=member,
                occurred_at=reply.received_at,
                channel=Channel.SMS,
                granted=granted,
                source="sms_reply_start" if granted else "sms_reply_stop",
            )
            for member in members
        ]
        await contact_repository.apply_consents(conn, consents)
        await outbox.append(conn, [consent_record(c, origin) for c in consents])
    if not members:
        result = ReplyResult.UNKNOWN_SENDER
    notifier_metrics.INBOUND.labels(kind="sms_reply", result=result.value).inc()
    return result, len(members)


async def unsubscribe_by_link(pool: Any, secret: bytes, token: str, now: datetime) -> unsubscribe.UnsubscribeClaim:
    """Verify a link's token, spend it, and withdraw consent for its channel.

    Raises ``unsubscribe.InvalidToken`` for a forged or damaged token and ``TokenSpent`` for a reused one.
    """
    claim = unsubscribe.verify(secret, token)
    token_id = unsubscribe.token_id(token)
    async with pool.acquire() as conn, conn.transaction():
        if not await contact_repository.spend_unsubscribe_token(conn, token_id, claim.member_id, now):
            notifier_metrics.INBOUND.labels(kind="unsubscribe", result="spent").inc()
            raise TokenSpent("this unsubscribe link was already used")
        consent = MemberConsentV1(
            member_id=claim.member_id, occurred_at=now, channel=claim.channel, granted=False, source="unsubscribe_link"
        )
        await contact_repository.apply_consents(conn, [consent])
        await outbox.append(conn, [consent_record(consent, token_id)])
    notifier_metrics.INBOUND.labels(kind="unsubscribe", result="opted_out").inc()
    return claim


async def apply_receipt(
    conn: Any, channel: Channel, provider_message_id: str, delivered: bool, at: datetime, error_code: str | None
) -> KafkaRecord | None:
    """Move a sent message to delivered or failed; returns the status to publish, None when unknown or applied."""
    code = None if delivered else (error_code or "receipt_failed")
    found = await send_ledger.apply_receipt(conn, channel, provider_message_id, code)
    notifier_metrics.INBOUND.labels(kind=f"{channel.value}_receipt", result="applied" if found else "ignored").inc()
    if found is None:
        return None
    offer_id, member_id = found
    notifier_metrics.SENDS.labels(channel=channel.value, status="delivered" if delivered else "failed").inc()
    return status_record(
        member_id,
        offer_id,
        channel,
        DeliveryStatus.DELIVERED if delivered else DeliveryStatus.FAILED,
        at,
        provider_message_id=provider_message_id,
        error_code=code,
    )


async def record_receipt(
    pool: Any, channel: Channel, provider_message_id: str, delivered: bool, at: datetime, error_code: str | None
) -> bool:
    """Apply a receipt that came over HTTP; False when the message is unknown or its receipt was applied."""
    async with pool.acquire() as conn, conn.transaction():
        record = await apply_receipt(conn, channel, provider_message_id, delivered, at, error_code)
        if record is not None:
            await outbox.append(conn, [record])
    return record is not None
