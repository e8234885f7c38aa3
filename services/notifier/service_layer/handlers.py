"""Applying offers: decide the channel, record the send in the ledger once, report the status."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from services.notifier.domain.channels import decide
from shared.contracts import Channel, NotificationStatusV1, OfferIssuedV1, derived_event_id, wrap
from shared.contracts.topics import NOTIFICATION_STATUS
from shared.kafka.records import Decoded, UnitOfWork

SOURCE = "memberpulse/notifier"


def offer_handler(configured: Collection[Channel]):  # type: ignore[no-untyped-def]
    async def deliver(uow: UnitOfWork, batch: Sequence[Decoded[OfferIssuedV1]]) -> None:
        now = datetime.now(UTC)
        for item in batch:
            offer = item.payload
            decision = decide(offer, configured, now)
            inserted = await uow.conn.fetchval(
                """INSERT INTO sends (offer_id, channel, member_id, status, error_code)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1""",
                offer.offer_id,
                decision.channel.value,
                offer.member_id,
                decision.status.value,
                decision.error_code,
            )
            if not inserted:
                continue
            status = NotificationStatusV1(
                member_id=offer.member_id,
                occurred_at=now,
                offer_id=offer.offer_id,
                channel=decision.channel,
                status=decision.status,
                error_code=decision.error_code,
            )
            event_id = derived_event_id("notification", offer.offer_id, decision.channel.value, decision.status.value)
            uow.publish(wrap(status, topic=NOTIFICATION_STATUS.name, source=SOURCE, event_id=event_id))

    return deliver
