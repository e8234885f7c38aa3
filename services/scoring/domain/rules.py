"""The thresholds behind tiers, lifecycle and churn warnings: one documented place, all configurable.

docs/scoring.md explains each rule; the defaults are what a chain gets without configuring
anything. Durations are in days because members' rhythms are measured in days.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts import ChatKind

# How much one chat action counts towards the contribution score. Starting a topic carries a
# conversation; a reply keeps one going; an edit or a recall is not new participation.
DEFAULT_CHAT_WEIGHTS: dict[ChatKind, float] = {
    ChatKind.MESSAGE: 1.0,
    ChatKind.REPLY: 1.5,
    ChatKind.TOPIC_STARTED: 3.0,
    ChatKind.REACTION: 0.0,
    ChatKind.EDIT: 0.0,
    ChatKind.RECALL: 0.0,
}


@dataclass(frozen=True)
class EngagementRules:
    """Community engagement: two exponentially decayed scores and the tier thresholds on them.

    With a 14-day half-life a steady rate of k weighted messages a day settles at k·14/ln 2 ≈ 20k,
    so ``active_score`` 6 means about two messages a week, kept up; ``participant_score`` 1 means
    something said in the last few weeks.
    """

    contribution_half_life_days: float = 14.0
    reaction_half_life_days: float = 14.0
    active_score: float = 6.0
    participant_score: float = 1.0
    participant_reactions: float = 2.0
    silent_after_days: float = 60.0
    chat_weights: dict[ChatKind, float] = field(default_factory=lambda: dict(DEFAULT_CHAT_WEIGHTS))


@dataclass(frozen=True)
class LifecycleRules:
    """new → active → at_risk → dormant → reactivated → active, and the churn-warning reasons."""

    new_member_days: float = 30.0
    reactivated_days: float = 30.0
    dormant_after_days: float = 180.0
    # Overdue: the gap since the last purchase exceeds factor × the member's own mean gap.
    overdue_factor: float = 2.0
    min_overdue_days: float = 14.0
    p_alive_threshold: float = 0.3
    # Leaving, unfollowing and complaining count as warnings for this long after they happen.
    signal_window_days: float = 30.0
    # An engagement drop (active/participant → lurker/silent) is a warning for this long.
    engagement_drop_window_days: float = 90.0


@dataclass(frozen=True)
class ValueRules:
    """Customer value: a horizon, discounted step by step, and the P(alive)/forecast horizon."""

    horizon_days: float = 5 * 365.25
    # Quarterly cash-flow steps: the value moves by well under 1% against monthly steps (a unit
    # test holds it), at a third of the cost (each step is one forecast per member).
    step_days: float = 365.25 / 4
    annual_discount_rate: float = 0.10
    forecast_days: float = 90.0

    @property
    def discount_per_step(self) -> float:
        return float((1 + self.annual_discount_rate) ** (self.step_days / 365.25) - 1)


@dataclass(frozen=True)
class ScoringRules:
    engagement: EngagementRules = field(default_factory=EngagementRules)
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    value: ValueRules = field(default_factory=ValueRules)
