"""What campaigns knows about a member, from its own copies of their state and consent."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.campaigns.domain.definitions import Audience, Campaign, ValueBasis
from shared.contracts.offer import Channel, MessageType
from shared.contracts.state import EngagementTier, Lifecycle, MemberStateV1, ValueTier

ENGAGED = (EngagementTier.ACTIVE, EngagementTier.PARTICIPANT)


@dataclass(frozen=True)
class MemberView:
    member_id: str
    zone: ZoneInfo
    lifecycle: Lifecycle | None = None
    engagement_tier: EngagementTier | None = None
    value_tier: ValueTier | None = None
    p_alive: float | None = None
    clv_minor: int | None = None
    value_at_risk_minor: int | None = None
    home_store_id: str | None = None
    region: str | None = None
    communities: tuple[str, ...] = ()
    # Latest consent per channel; a channel never mentioned falls back to the chain's default.
    consent: Mapping[Channel, bool] = field(default_factory=dict)
    state_version: int | None = None


@dataclass(frozen=True)
class Timeline:
    """A member as of each moment of a batch: the view before it, then each state change it brings.

    A batch can hold a member's state change from later in the day than a purchase it also holds.
    The purchase is decided on the member as they were when they bought, so where a batch ends
    does not change what is decided.
    """

    before: MemberView
    changes: tuple[tuple[datetime, MemberView], ...] = ()

    def at(self, moment: datetime) -> MemberView:
        view = self.before
        for when, changed in self.changes:
            if when > moment:
                break
            view = changed
        return view


def timeline(before: MemberView, changes: Iterable[tuple[datetime, MemberView]]) -> Timeline:
    """Changes in event-time order; one no newer than the view before (a redelivery) changes nothing."""
    known = before.state_version or 0
    newer = sorted(
        ((when, view) for when, view in changes if (view.state_version or 0) > known),
        key=lambda change: (change[0], change[1].state_version or 0),
    )
    return Timeline(before, tuple(newer))


def _allowed(value: object, allowed: tuple[object, ...]) -> bool:
    return not allowed or value in allowed


def admits(audience: Audience, member: MemberView) -> bool:
    """Whether the member is in the audience; a condition on a fact campaigns lacks is not met."""
    if not (
        _allowed(member.lifecycle, audience.lifecycle)
        and _allowed(member.engagement_tier, audience.engagement_tier)
        and _allowed(member.value_tier, audience.value_tier)
        and _allowed(member.region, audience.regions)
        and _allowed(member.home_store_id, audience.stores)
    ):
        return False
    if audience.communities and not set(audience.communities) & set(member.communities):
        return False
    if audience.min_p_alive is not None and (member.p_alive is None or member.p_alive < audience.min_p_alive):
        return False
    return audience.min_value_at_risk_minor is None or (
        member.value_at_risk_minor is not None and member.value_at_risk_minor >= audience.min_value_at_risk_minor
    )


def consented_channels(campaign: Campaign, member: MemberView, *, default: bool) -> tuple[Channel, ...]:
    """The campaign's channels the member may be reached on, in its order of preference.

    Only marketing needs consent; greetings and notifications go to every channel. An explicit
    audience ignores the default: only a recorded opt-in counts.
    """
    if campaign.message_type is not MessageType.MARKETING:
        return campaign.channels
    fallback = False if campaign.audience.explicit_consent else default
    return tuple(c for c in campaign.channels if member.consent.get(c, fallback))


def expected_value(campaign: Campaign, member: MemberView | None, basket_minor: int) -> int:
    """What the offer is worth, for arbitration: win-back weighs the value at risk."""
    match campaign.value_basis:
        case ValueBasis.VALUE_AT_RISK:
            return member.value_at_risk_minor or 0 if member else 0
        case ValueBasis.CLV:
            return member.clv_minor or 0 if member else 0
        case ValueBasis.BASKET:
            return basket_minor
        case ValueBasis.FIXED:
            return campaign.expected_value_minor


def business_day(at: datetime, zone: ZoneInfo) -> date:
    """The calendar day of ``at`` in ``zone``: budgets per day count in the chain's business day."""
    return at.astimezone(zone).date()


def engaged_in(state: MemberStateV1) -> tuple[str, ...]:
    """The communities a state leaves its member engaged in: theirs, if their tier is engaged."""
    return tuple(state.communities) if state.engagement_tier in ENGAGED else ()


def engaged_as_of(community: str, at: datetime, stored: Collection[str], changes: Sequence[MemberStateV1]) -> list[str]:
    """The community's engaged members at ``at``: as stored, then as the changes up to ``at`` left them."""
    engaged = set(stored)
    latest: dict[str, MemberStateV1] = {}
    for state in sorted(changes, key=lambda s: (s.occurred_at, s.state_version)):
        if state.occurred_at <= at:
            latest[state.member_id] = state
    for member_id, state in latest.items():
        if community in engaged_in(state):
            engaged.add(member_id)
        else:
            engaged.discard(member_id)
    return sorted(engaged)
