"""Channel choice: which channels may carry an offer, in which order, and when it may go.

The rules, in the order the issue states them:

1. the offer's preference order (``OfferIssuedV1.channels``);
2. the chain's configuration: a channel without a provider cannot carry anything;
3. the member's consent per channel — only marketing needs it; a greeting, a notification or a
   narrative about the member's own account still goes to a channel they opted out of marketing on;
4. which contact points exist;
5. on a permanent failure the next usable channel in that order is tried (``next_channel``).

When nothing is left the offer is suppressed with the reason of the check that emptied the list,
so a status report names the real cause ("no_consent"), not the last check that happened to run.
An expired offer is suppressed before anything else: it must not go out on any channel.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.notifier.domain.messages import Contact
from shared.contracts import Channel, MessageType, OfferIssuedV1

OFFER_EXPIRED = "offer_expired"
CHANNEL_NOT_CONFIGURED = "channel_not_configured"
NO_CONSENT = "no_consent"
NO_CONTACT_POINT = "no_contact_point"


@dataclass(frozen=True)
class Route:
    """The usable channels, best first; ``suppressed`` says why there are none."""

    channels: tuple[Channel, ...]
    suppressed: str | None = None

    def __post_init__(self) -> None:
        if bool(self.channels) == (self.suppressed is not None):
            raise ValueError("a route has either channels or a suppression reason, never both or neither")

    @property
    def first(self) -> Channel | None:
        """The channel to try first, None when the offer is suppressed."""
        return self.channels[0] if self.channels else None


def route(
    offer: OfferIssuedV1,
    *,
    configured: Collection[Channel],
    opted_out: Collection[Channel],
    contact: Contact | None,
    now: datetime,
) -> Route:
    """The channels that may carry ``offer`` to this member at ``now``, in the offer's order of preference.

    ``opted_out`` holds the channels the member withdrew marketing consent on; ``contact`` None means
    nothing is known about the member, so no channel can reach them.
    """
    if contact is not None and contact.member_id != offer.member_id:
        # Addressing one member's offer with another member's phone number would be a data leak, not a send.
        raise ValueError(f"contact of {contact.member_id!r} given for an offer to {offer.member_id!r}")
    if offer.expired_at(now):
        return Route((), OFFER_EXPIRED)
    # A channel named twice is still one channel: the ledger is unique per (offer, channel).
    channels = tuple(dict.fromkeys(offer.channels))
    # Each check narrows what the one before left, so the reason is the first check that emptied the list.
    usable = [c for c in channels if c in configured]
    if not usable:
        return Route((), CHANNEL_NOT_CONFIGURED)
    if offer.message_type is MessageType.MARKETING:
        usable = [c for c in usable if c not in opted_out]
        if not usable:
            return Route((), NO_CONSENT)
    usable = [c for c in usable if _reachable(contact, c)]
    if not usable:
        return Route((), NO_CONTACT_POINT)
    return Route(tuple(usable))


def _reachable(contact: Contact | None, channel: Channel) -> bool:
    if contact is None:
        return False
    address = contact.address(channel)
    # A blank address from an upstream form is no more a contact point than a missing one.
    return address is not None and address.strip() != ""


def next_channel(route_channels: Sequence[Channel], failed: Channel) -> Channel | None:
    """The fallback after a permanent failure on ``failed``: the channel after it, None when none is left.

    A ``failed`` channel that is not in the route has no place in its order, so there is no fallback either.
    """
    try:
        position = list(route_channels).index(failed)
    except ValueError:
        return None
    return route_channels[position + 1] if position + 1 < len(route_channels) else None


def send_at(offer: OfferIssuedV1, now: datetime) -> datetime:
    """When the message may go: now, or later when the campaign's quiet hours set ``deliver_after``."""
    if offer.deliver_after is not None and offer.deliver_after > now:
        return offer.deliver_after
    return now


def is_deferred(offer: OfferIssuedV1, now: datetime) -> bool:
    """True when the send must wait for the scheduled-send table instead of going now."""
    return offer.deliver_after is not None and offer.deliver_after > now
