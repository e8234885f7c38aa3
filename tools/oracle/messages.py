"""``expected_messages(...)``: the messages the providers must receive for the offers the oracle issues.

The notifier routes an issued offer (services/notifier/domain/routing.py): the offer's channels in
its order of preference (campaigns put there the ones the member consented to and had room for),
those with a provider configured, those the member has not opted out of marketing on, and those
their contact record can reach. The first left carries the message. An offer already expired when
the notifier reads it is sent nowhere; one whose quiet hours end later waits for that moment.

The notifier judges both on its wall clock, not on event time: a replay of last year sends none of
last year's coupons. So what a run must show depends on when it ran (``began``, ``ended``):

- **must**: the offer's send time has passed when the run began and it does not expire before it
  ends, so it is sent whatever the timing;
- **may**: it expires or falls due while the run is going on, so whether it went depends on when
  the notifier read it;
- nothing else: an offer expired before the run began, or without a channel that reaches the member.

No channel fails in the chaos suite (the provider sinks inject failures only when a test asks), so
the first usable channel is the one; no member opts out there either (nobody replies STOP).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.campaigns.domain.definitions import Campaign
from shared.contracts.offer import Channel
from tools.oracle.campaigns import ExpectedDecision

# One message: (campaign, the decision's moment, channel).
Message = tuple[str, datetime, str]
# The columns of the notifier's contacts file that address each channel.
_ADDRESS = {
    Channel.SMS: "phone",
    Channel.EMAIL: "email",
    Channel.WECHAT: "wechat_openid",
    Channel.WEBHOOK: "app_user_id",
}


@dataclass(frozen=True)
class ExpectedMessages:
    must: dict[bytes, frozenset[Message]]
    may: dict[bytes, frozenset[Message]]


def expected_messages(
    decisions: Mapping[bytes, Sequence[ExpectedDecision]],
    campaigns: Sequence[Campaign],
    contacts: Mapping[bytes, Mapping[str, str | None]],
    *,
    began: datetime,
    ended: datetime,
    configured: Collection[Channel] = tuple(Channel),
) -> ExpectedMessages:
    """Per person: the messages that must reach the providers in a run from ``began`` to ``ended``
    (wall clock), and those that may. ``contacts``: the contacts file's row the notifier holds for
    each person's member id (a person without one cannot be reached)."""
    expiry = {c.id: timedelta(days=c.offer.expires_after_days) for c in campaigns}
    must: dict[bytes, frozenset[Message]] = {}
    may: dict[bytes, frozenset[Message]] = {}
    for person, mine in decisions.items():
        sure: set[Message] = set()
        maybe: set[Message] = set()
        contact = contacts.get(person)
        for decision in mine:
            if decision.outcome != "issued" or contact is None:
                continue
            expires_at = decision.at + expiry[decision.campaign]
            if expires_at <= began:
                continue
            channel = _first_reachable(decision.channels, contact, configured)
            if channel is None:
                continue
            send_at = max(decision.at, decision.deliver_at or decision.at)
            message = (decision.campaign, decision.at, channel)
            (sure if send_at <= began and expires_at > ended else maybe).add(message)
        must[person] = frozenset(sure)
        may[person] = frozenset(maybe)
    return ExpectedMessages(must, may)


def _first_reachable(
    channels: Sequence[str], contact: Mapping[str, str | None], configured: Collection[Channel]
) -> str | None:
    for name in dict.fromkeys(channels):
        channel = Channel(name)
        address = contact.get(_ADDRESS[channel])
        if channel in configured and address is not None and address.strip():
            return name
    return None
