"""The consumer's work: each offer gets its first channel queued in the ledger, or is suppressed with a reason.

Sending happens later, in the dispatcher, so a slow or failing provider never stalls a partition and
a redelivered offer finds its ledger row already there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from services.notifier.adapters import contact_repository, send_ledger
from services.notifier.adapters import metrics as notifier_metrics
from services.notifier.adapters.send_ledger import NewSend
from services.notifier.domain.messages import Contact
from services.notifier.domain.routing import is_deferred, route, send_at
from services.notifier.service_layer.inbound import apply_receipt
from services.notifier.service_layer.statuses import status_record
from shared.contracts import Channel, DeliveryStatus, MemberConsentV1, NotificationReceiptV1, OfferIssuedV1
from shared.kafka.records import Decoded, UnitOfWork


def plan(
    offer: OfferIssuedV1,
    *,
    configured: Collection[Channel],
    opted_out: Collection[Channel],
    contact: Contact | None,
    now: datetime,
) -> NewSend:
    chosen = route(offer, configured=configured, opted_out=opted_out, contact=contact, now=now)
    if chosen.suppressed is not None or not chosen.channels:
        return NewSend(offer, offer.channels[0], (), DeliveryStatus.SUPPRESSED.value, None, chosen.suppressed)
    first, *rest = chosen.channels
    status = DeliveryStatus.DEFERRED if is_deferred(offer, now) else DeliveryStatus.QUEUED
    return NewSend(offer, first, tuple(rest), status.value, send_at(offer, now))


async def queue_offers(
    conn: Any, offers: Sequence[OfferIssuedV1], configured: Collection[Channel], now: datetime
) -> list[Any]:
    """Plan and insert the offers' first sends; returns the status records to publish."""
    if not offers:
        return []
    members = {o.member_id for o in offers}
    contacts = await contact_repository.contacts_of(conn, members)
    opted_out = await contact_repository.opted_out(conn, members)
    planned = [
        plan(
            offer,
            configured=configured,
            opted_out=opted_out.get(offer.member_id, ()),
            contact=contacts.get(offer.member_id),
            now=now,
        )
        for offer in offers
    ]
    records = []
    for new in await send_ledger.insert(conn, planned):
        notifier_metrics.OFFERS_PLANNED.labels(status=new.status, reason=new.error_code or "").inc()
        records.append(
            status_record(
                new.offer.member_id,
                new.offer.offer_id,
                new.channel,
                DeliveryStatus(new.status),
                now,
                error_code=new.error_code,
            )
        )
    return records


def intake_handler(configured: Collection[Channel]):  # type: ignore[no-untyped-def]
    async def handle(uow: UnitOfWork, batch: Sequence[Decoded[Any]]) -> None:
        payloads = [item.payload for item in batch]
        await contact_repository.apply_consents(uow.conn, [p for p in payloads if isinstance(p, MemberConsentV1)])
        for receipt in (p for p in payloads if isinstance(p, NotificationReceiptV1)):
            status = await apply_receipt(
                uow.conn,
                receipt.channel,
                receipt.provider_message_id,
                receipt.delivered,
                receipt.occurred_at,
                None if receipt.delivered else _receipt_code(receipt.provider_status),
            )
            if status is not None:
                uow.publish(status)
        offers = [p for p in payloads if isinstance(p, OfferIssuedV1)]
        for record in await queue_offers(uow.conn, offers, configured, datetime.now(UTC)):
            uow.publish(record)

    return handle


def _receipt_code(provider_status: str) -> str:
    # "failed:user block" -> "receipt_user_block": short, bounded, still the provider's reason.
    reason = provider_status.partition(":")[2].strip().lower().replace(" ", "_")[:40]
    return f"receipt_{reason}" if reason else "receipt_failed"
