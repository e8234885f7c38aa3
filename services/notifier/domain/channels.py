"""Channel choice: the offer's preference order, limited to the channels this chain has configured.

Foundation rule; the notifier issue adds consent, contact points and fallback on failure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from shared.contracts import Channel, DeliveryStatus, OfferIssuedV1


@dataclass(frozen=True)
class Decision:
    channel: Channel
    status: DeliveryStatus
    error_code: str | None = None


def decide(offer: OfferIssuedV1, configured: Collection[Channel], now: datetime) -> Decision:
    if offer.expired_at(now):
        return Decision(offer.channels[0], DeliveryStatus.SUPPRESSED, "offer_expired")
    for channel in offer.channels:
        if channel in configured:
            return Decision(channel, DeliveryStatus.SENT)
    # Nothing can carry it: record that honestly instead of pretending it was sent.
    return Decision(offer.channels[0], DeliveryStatus.SUPPRESSED, "channel_not_configured")
