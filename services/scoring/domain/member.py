"""A member's scoring state, and how one event's facts fold into it.

Everything kept here is an order-independent aggregate (sums, minima, maxima and exponentially
decayed sums), so a late event folds in exactly as if it had arrived on time, and replaying a
history gives the same numbers as living through it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from services.scoring.domain.rules import EngagementRules
from services.scoring.domain.timeline import days_between, decay
from shared.contracts import (
    ChatKind,
    CommunityAction,
    EngagementTier,
    Lifecycle,
    MemberChatV1,
    MemberCommunityV1,
    MemberPurchaseV1,
    PurchaseKind,
    ValueTier,
)

# Community actions that are taking part; leaving and unfollowing are warning signs instead.
_POSITIVE_ACTIONS = frozenset({CommunityAction.JOIN, CommunityAction.FOLLOW})


@dataclass(frozen=True)
class MemberState:
    member_id: str
    first_seen_at: datetime
    # The event time this state is valid at: the latest event or due time it was evaluated at.
    clock: datetime
    lifecycle: Lifecycle = Lifecycle.NEW
    lifecycle_since: datetime | None = None
    reasons: tuple[str, ...] = ()
    engagement_tier: EngagementTier = EngagementTier.SILENT
    # The last evaluation time at which the member was active / active or participant.
    active_until: datetime | None = None
    engaged_until: datetime | None = None
    # Decayed sums, valid at ``scores_at`` (the latest chat event time folded in).
    contribution_score: float = 0.0
    reaction_score: float = 0.0
    scores_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_left_at: datetime | None = None
    last_unfollowed_at: datetime | None = None
    last_complaint_at: datetime | None = None
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    # The store of the latest purchase: where campaigns reach the member in person.
    home_store_id: str | None = None
    sales: int = 0
    refunds: int = 0
    sales_minor: int = 0
    refunds_minor: int = 0
    value_tier: ValueTier | None = None
    p_alive: float | None = None
    expected_purchases: float | None = None
    clv_minor: int | None = None
    value_at_risk_minor: int | None = None
    next_review_at: datetime | None = None
    state_version: int = 0
    merged_into: str | None = None

    @property
    def net_spend_minor(self) -> int:
        return self.sales_minor - self.refunds_minor

    @property
    def last_activity_at(self) -> datetime:
        """The latest purchase or interaction; first sighting when there is neither."""
        seen = [t for t in (self.last_purchase_at, self.last_interaction_at) if t is not None]
        return max(seen, default=self.first_seen_at)

    def repeat_purchases(self) -> int:
        """BG/NBD's x: purchases after the first."""
        return max(0, self.sales - 1)

    def mean_gap_days(self) -> float | None:
        """The member's own mean time between purchases, once there are two."""
        if self.sales < 2 or self.first_purchase_at is None or self.last_purchase_at is None:
            return None
        return days_between(self.first_purchase_at, self.last_purchase_at) / (self.sales - 1)


_FIELD_NAMES = frozenset(f.name for f in fields(MemberState))


def evolve(state: MemberState, **changes: Any) -> MemberState:
    """``dataclasses.replace`` for the member state, without re-running ``__init__``.

    The state is wide (40 fields) and copied several times per event; ``replace`` rebuilt it
    field by field and was a tenth of scoring's CPU. Field names are checked, as ``replace`` does.
    """
    if not _FIELD_NAMES.issuperset(changes):  # no set built on the common path: called ~6 times an event
        raise TypeError(f"MemberState has no field(s) {sorted(changes.keys() - _FIELD_NAMES)}")
    copy = object.__new__(MemberState)
    copy.__dict__.update(state.__dict__)
    copy.__dict__.update(changes)
    return copy


def restore(values: dict[str, Any]) -> MemberState:
    """A state from stored values of every field, without running ``__init__`` (as ``evolve``)."""
    if values.keys() != _FIELD_NAMES:
        raise TypeError(f"MemberState fields missing or unknown: {sorted(values.keys() ^ _FIELD_NAMES)}")
    state = object.__new__(MemberState)
    state.__dict__.update(values)
    return state


def new_member(member_id: str, at: datetime) -> MemberState:
    return MemberState(member_id=member_id, first_seen_at=at, clock=at, lifecycle_since=at)


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _earlier(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current


def add_decayed(
    sums: tuple[float, float],
    sums_at: datetime | None,
    weights: tuple[float, float],
    at: datetime,
    half_lives: tuple[float, float],
) -> tuple[tuple[float, float], datetime]:
    """Add ``weights`` happening at ``at`` to decayed sums valid at ``sums_at``; order does not matter.

    The sums stay valid at the latest time seen: a later event decays them forward first, an
    earlier (late) one is decayed forward itself before it is added.
    """
    if sums_at is None:
        return weights, at
    if at >= sums_at:
        elapsed = days_between(sums_at, at)
        moved = tuple(decay(s, elapsed, h) + w for s, w, h in zip(sums, weights, half_lives, strict=True))
        return (moved[0], moved[1]), at
    elapsed = days_between(at, sums_at)
    added = tuple(s + decay(w, elapsed, h) for s, w, h in zip(sums, weights, half_lives, strict=True))
    return (added[0], added[1]), sums_at


def fold_chat(state: MemberState, event: MemberChatV1, rules: EngagementRules, complaint: bool) -> MemberState:
    at = event.occurred_at
    weights = (rules.chat_weights.get(event.kind, 0.0), 1.0 if event.kind is ChatKind.REACTION else 0.0)
    (contribution, reaction), scores_at = add_decayed(
        (state.contribution_score, state.reaction_score),
        state.scores_at,
        weights,
        at,
        (rules.contribution_half_life_days, rules.reaction_half_life_days),
    )
    interaction = event.kind is not ChatKind.RECALL
    return evolve(
        state,
        contribution_score=contribution,
        reaction_score=reaction,
        scores_at=scores_at,
        last_interaction_at=_later(state.last_interaction_at, at) if interaction else state.last_interaction_at,
        last_complaint_at=_later(state.last_complaint_at, at) if complaint else state.last_complaint_at,
    )


def fold_community(state: MemberState, event: MemberCommunityV1) -> MemberState:
    at = event.occurred_at
    if event.action in _POSITIVE_ACTIONS:
        return evolve(state, last_interaction_at=_later(state.last_interaction_at, at))
    if event.action is CommunityAction.LEAVE:
        return evolve(state, last_left_at=_later(state.last_left_at, at))
    return evolve(state, last_unfollowed_at=_later(state.last_unfollowed_at, at))


def fold_purchase(state: MemberState, event: MemberPurchaseV1) -> MemberState:
    """A sale counts as a purchase; a refund only takes value back (it is never a purchase)."""
    if event.kind is PurchaseKind.REFUND:
        return evolve(state, refunds=state.refunds + 1, refunds_minor=state.refunds_minor + abs(event.total_minor))
    at = event.occurred_at
    latest = state.last_purchase_at is None or at >= state.last_purchase_at
    return evolve(
        state,
        sales=state.sales + 1,
        sales_minor=state.sales_minor + event.total_minor,
        first_purchase_at=_earlier(state.first_purchase_at, at),
        last_purchase_at=_later(state.last_purchase_at, at),
        home_store_id=event.store_id if latest and event.store_id else state.home_store_id,
    )
