"""Why a member is where they are: the scores and every warning rule, in words, at a given time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.scoring.domain.engagement import scores_at, tier_at
from services.scoring.domain.lifecycle import overdue_at, p_alive_at, warning_reasons
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.timeline import days_between


def _days(since: datetime | None, at: datetime) -> str:
    return "never" if since is None else f"{days_between(since, at):.1f} days ago"


def explain(state: MemberState, at: datetime, policy: Policy) -> dict[str, Any]:
    """A JSON-ready account of the member at ``at`` (normally the watermark or the member's clock)."""
    rules = policy.rules
    contribution, reactions = scores_at(state, at, rules.engagement)
    gap = state.mean_gap_days()
    overdue = overdue_at(state, policy)
    alive = p_alive_at(state, at, policy)
    lines = [
        f"Lifecycle {state.lifecycle.value} since {state.lifecycle_since:%Y-%m-%d %H:%M} UTC"
        if state.lifecycle_since
        else f"Lifecycle {state.lifecycle.value}",
        f"Engagement {tier_at(state, at, rules.engagement).value}: contribution score {contribution:.2f} "
        f"(active from {rules.engagement.active_score:g}, participant from {rules.engagement.participant_score:g}), "
        f"reactions {reactions:.2f}; last interaction {_days(state.last_interaction_at, at)} "
        f"(silent after {rules.engagement.silent_after_days:g} days)",
        f"Purchases: {state.sales} sales, {state.refunds} refunds, net {state.net_spend_minor / 100:.2f}; "
        f"last {_days(state.last_purchase_at, at)}",
    ]
    if gap is not None and overdue is not None:
        lines.append(
            f"Own rhythm: a purchase every {gap:.1f} days on average; overdue from {overdue:%Y-%m-%d} "
            f"({rules.lifecycle.overdue_factor:g}x the rhythm, at least {rules.lifecycle.min_overdue_days:g} days)"
        )
    if alive is not None:
        lines.append(f"P(alive) {alive:.3f} (warning below {rules.lifecycle.p_alive_threshold:g})")
    for label, moment in (
        ("Left a community", state.last_left_at),
        ("Unfollowed", state.last_unfollowed_at),
        ("Complained", state.last_complaint_at),
    ):
        if moment is not None:
            lines.append(f"{label} {_days(moment, at)} (a warning for {rules.lifecycle.signal_window_days:g} days)")
    return {
        "member_id": state.member_id,
        "as_of": at.isoformat(),
        "lifecycle": state.lifecycle.value,
        "reasons": list(state.reasons),
        "warnings_now": list(warning_reasons(state, at, policy)),
        "engagement_tier": state.engagement_tier.value,
        "value_tier": state.value_tier.value if state.value_tier else None,
        "p_alive": state.p_alive,
        "expected_purchases": state.expected_purchases,
        "forecast_days": rules.value.forecast_days,
        "clv_minor": state.clv_minor,
        "value_at_risk_minor": state.value_at_risk_minor,
        "next_review_at": state.next_review_at.isoformat() if state.next_review_at else None,
        "state_version": state.state_version,
        "model_version": policy.model.version,
        "explanation": lines,
    }
