"""Lifecycle transitions and churn warnings, evaluated at event times and at due times.

A member is evaluated when one of its events arrives and when a time-driven rule falls due
(``next_review_at``). Due reviews are evaluated at their own due time, never at "now", so the
same history gives the same transitions whether it is replayed in minutes or lived through,
and whether the sweeper or the member's next event gets there first. docs/scoring.md lists
every rule; in short:

- new → active: a repeat purchase, or ``new_member_days`` after first sighting;
- new / active / reactivated → at_risk: any churn-warning reason holds;
- at_risk → active: an engaging event (a sale, a message, a join or follow) with no reason left;
- any but dormant → dormant: no purchase and no interaction for ``dormant_after_days``;
- dormant → reactivated: an engaging event;
- reactivated → active: ``reactivated_days`` later, if no warning holds by then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from services.scoring.domain import bgnbd
from services.scoring.domain.engagement import ENGAGED, next_tier_change, tier_at
from services.scoring.domain.member import MemberState, evolve
from services.scoring.domain.policy import Policy
from services.scoring.domain.timeline import after_days, days_between, due_time
from services.scoring.domain.value_tier import value_tier
from shared.contracts import EngagementTier, Lifecycle

# Reason codes (docs/scoring.md has the full table).
OVERDUE = "overdue_vs_own_cadence"
P_ALIVE_LOW = "p_alive_below_threshold"
# A crossing further out than this (a century) is never: no review is scheduled for it.
NEVER_AFTER_DAYS = 36_525.0
ENGAGEMENT_DROP = "engagement_drop"
LEFT_COMMUNITY = "left_community"
UNFOLLOWED = "unfollowed"
COMPLAINT = "complaint"
WARNING_REASONS = (OVERDUE, P_ALIVE_LOW, ENGAGEMENT_DROP, LEFT_COMMUNITY, UNFOLLOWED, COMPLAINT)

FIRST_SEEN = "first_seen"
REPEAT_PURCHASE = "repeat_purchase"
SETTLED_IN = "settled_in"
RECOVERED = "recovered"
INACTIVE = "inactive"
PURCHASED = "purchase"
INTERACTED = "interaction"
MERGED = "merged"

_CAN_WARN = frozenset({Lifecycle.NEW, Lifecycle.ACTIVE, Lifecycle.REACTIVATED})
_MAX_REVIEWS_PER_ADVANCE = 64


@dataclass(frozen=True)
class Transition:
    """A real change of lifecycle or engagement tier, at event time ``at``."""

    before: MemberState | None
    after: MemberState
    at: datetime


@dataclass(frozen=True)
class Trigger:
    """What made the evaluation happen: an engaging event (a sale or taking part) or time."""

    engaging: bool = False
    sale: bool = False


TIME = Trigger()


def p_alive_at(state: MemberState, at: datetime, policy: Policy) -> float | None:
    if state.first_purchase_at is None or state.last_purchase_at is None:
        return None
    t_x = days_between(state.first_purchase_at, state.last_purchase_at)
    age = max(t_x, days_between(state.first_purchase_at, at))
    return bgnbd.p_alive_of_one(policy.model.bgnbd, state.repeat_purchases(), t_x, age)


def _within(moment: datetime | None, at: datetime, window_days: float) -> bool:
    return moment is not None and 0.0 <= days_between(moment, at) < window_days


def overdue_at(state: MemberState, policy: Policy) -> datetime | None:
    gap = state.mean_gap_days()
    if gap is None or state.last_purchase_at is None:
        return None
    rules = policy.rules.lifecycle
    return after_days(state.last_purchase_at, max(rules.overdue_factor * gap, rules.min_overdue_days))


def p_alive_falls_at(state: MemberState, policy: Policy) -> datetime | None:
    """When P(alive) falls below the threshold with no further purchase (closed form in T)."""
    x = state.repeat_purchases()
    if x == 0 or state.first_purchase_at is None or state.last_purchase_at is None:
        return None
    params, threshold = policy.model.bgnbd, policy.rules.lifecycle.p_alive_threshold
    t_x = days_between(state.first_purchase_at, state.last_purchase_at)
    # P = 1 / (1 + a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)); solve P = threshold for T, in logs: a model
    # that sees almost nobody lapse (a near 0) puts the crossing beyond any calendar.
    log_odds = math.log(1.0 / threshold - 1.0) + math.log(params.b + x - 1) - math.log(params.a)
    log_reach = math.log(params.alpha + t_x) + log_odds / (params.r + x)
    if log_reach > math.log(NEVER_AFTER_DAYS):
        return None
    big_t = math.exp(log_reach) - params.alpha
    return after_days(state.first_purchase_at, max(big_t, t_x))


def warning_reasons(state: MemberState, at: datetime, policy: Policy, alive: float | None = None) -> tuple[str, ...]:
    """The churn-warning reasons that hold at ``at``; ``alive`` is P(alive) then, if known."""
    rules = policy.rules.lifecycle
    reasons: list[str] = []
    overdue = overdue_at(state, policy)
    if overdue is not None and at >= overdue:
        reasons.append(OVERDUE)
    if alive is None:
        alive = p_alive_at(state, at, policy)
    if alive is not None and state.sales >= 2 and alive < rules.p_alive_threshold:
        reasons.append(P_ALIVE_LOW)
    tier = state.engagement_tier
    window = rules.engagement_drop_window_days
    if (tier in (EngagementTier.LURKER, EngagementTier.SILENT) and _within(state.active_until, at, window)) or (
        tier is EngagementTier.SILENT and _within(state.engaged_until, at, window)
    ):
        reasons.append(ENGAGEMENT_DROP)
    signals = (
        (state.last_left_at, LEFT_COMMUNITY),
        (state.last_unfollowed_at, UNFOLLOWED),
        (state.last_complaint_at, COMPLAINT),
    )
    reasons.extend(code for moment, code in signals if _within(moment, at, rules.signal_window_days))
    return tuple(reasons)


def _with_engagement(state: MemberState, at: datetime, policy: Policy) -> MemberState:
    tier = tier_at(state, at, policy.rules.engagement)
    # "until" stamps remember when the member was last active / engaged, for the drop warning.
    active_until = at if EngagementTier.ACTIVE in (tier, state.engagement_tier) else state.active_until
    engaged_until = at if tier in ENGAGED or state.engagement_tier in ENGAGED else state.engaged_until
    return evolve(state, clock=at, engagement_tier=tier, active_until=active_until, engaged_until=engaged_until)


def _next_lifecycle(
    state: MemberState, at: datetime, reasons: tuple[str, ...], trigger: Trigger, policy: Policy
) -> tuple[Lifecycle, tuple[str, ...]]:
    rules = policy.rules.lifecycle
    current = state.lifecycle
    if current is not Lifecycle.DORMANT and days_between(state.last_activity_at, at) >= rules.dormant_after_days:
        return Lifecycle.DORMANT, (INACTIVE,)
    if current is Lifecycle.DORMANT:
        if trigger.engaging:
            return Lifecycle.REACTIVATED, (PURCHASED if trigger.sale else INTERACTED,)
        return current, state.reasons
    if current in _CAN_WARN and reasons:
        return Lifecycle.AT_RISK, reasons
    if current is Lifecycle.AT_RISK:
        if reasons or not trigger.engaging:
            return current, reasons or state.reasons
        return Lifecycle.ACTIVE, (RECOVERED,)
    since = state.lifecycle_since or state.first_seen_at
    if current is Lifecycle.NEW:
        if state.sales >= 2:
            return Lifecycle.ACTIVE, (REPEAT_PURCHASE,)
        if days_between(since, at) >= rules.new_member_days:
            return Lifecycle.ACTIVE, (SETTLED_IN,)
    if current is Lifecycle.REACTIVATED and days_between(since, at) >= rules.reactivated_days:
        return Lifecycle.ACTIVE, (SETTLED_IN,)
    return current, state.reasons


def next_review(state: MemberState, at: datetime, policy: Policy) -> datetime | None:
    """The earliest time a time-driven rule could change this member, if nothing else happens."""
    rules = policy.rules.lifecycle
    candidates = [next_tier_change(state, at, policy.rules.engagement)]
    current = state.lifecycle
    since = state.lifecycle_since or state.first_seen_at
    if current is not Lifecycle.DORMANT:
        candidates.append(after_days(state.last_activity_at, rules.dormant_after_days))
    if current is Lifecycle.NEW:
        candidates.append(after_days(since, rules.new_member_days))
    if current is Lifecycle.REACTIVATED:
        candidates.append(after_days(since, rules.reactivated_days))
    if current in _CAN_WARN:
        candidates += [overdue_at(state, policy), p_alive_falls_at(state, policy)]
    future = [t for t in candidates if t is not None and t > at]
    return due_time(min(future)) if future else None


def evaluate(state: MemberState, at: datetime, trigger: Trigger, policy: Policy) -> MemberState:
    """The member's state at ``at`` after the rules ran; ``state_version`` is left to the caller."""
    at = max(at, state.clock)
    state = _with_engagement(state, at, policy)
    alive = p_alive_at(state, at, policy)
    lifecycle, why = _next_lifecycle(state, at, warning_reasons(state, at, policy, alive), trigger, policy)
    recency = days_between(state.last_purchase_at, at) if state.last_purchase_at else 0.0
    state = evolve(
        state,
        lifecycle=lifecycle,
        lifecycle_since=at if lifecycle is not state.lifecycle else state.lifecycle_since,
        reasons=why,
        value_tier=value_tier(recency, state.sales, state.net_spend_minor, policy.rfm_cuts),
        p_alive=alive,
    )
    return evolve(state, next_review_at=next_review(state, at, policy))


def is_transition(before: MemberState | None, after: MemberState) -> bool:
    return before is None or (before.lifecycle, before.engagement_tier) != (after.lifecycle, after.engagement_tier)


def settle(before: MemberState | None, after: MemberState, transitions: list[Transition]) -> MemberState:
    """Bump the version and record the transition when something real changed."""
    if not is_transition(before, after):
        return after
    after = evolve(after, state_version=(before.state_version if before else 0) + 1)
    transitions.append(Transition(before, after, after.clock))
    return after


def advance(state: MemberState, until: datetime, policy: Policy) -> tuple[MemberState, list[Transition]]:
    """Run every review due at or before ``until``, each at its own due time."""
    transitions: list[Transition] = []
    for _ in range(_MAX_REVIEWS_PER_ADVANCE):
        due = state.next_review_at
        if due is None or due > until:
            break
        state = settle(state, evaluate(state, due, TIME, policy), transitions)
    return state, transitions
