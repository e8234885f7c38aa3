"""Engagement tiers from decayed chat activity: active, participant, lurker, silent.

- silent: no interaction (chat, join or follow) for ``silent_after_days``, or never;
- active: contribution score at least ``active_score``;
- participant: contribution at least ``participant_score``, or reactions at least
  ``participant_reactions``;
- lurker: interacted within the silent window, but below the participant bar.
"""

from __future__ import annotations

from datetime import datetime

from services.scoring.domain.member import MemberState
from services.scoring.domain.rules import EngagementRules
from services.scoring.domain.timeline import after_days, crossing_time, days_between, decay
from shared.contracts import EngagementTier

ENGAGED = frozenset({EngagementTier.ACTIVE, EngagementTier.PARTICIPANT})


def scores_at(state: MemberState, at: datetime, rules: EngagementRules) -> tuple[float, float]:
    """(contribution, reactions) decayed to ``at``."""
    if state.scores_at is None:
        return 0.0, 0.0
    elapsed = days_between(state.scores_at, at)
    return (
        decay(state.contribution_score, elapsed, rules.contribution_half_life_days),
        decay(state.reaction_score, elapsed, rules.reaction_half_life_days),
    )


def tier_at(state: MemberState, at: datetime, rules: EngagementRules) -> EngagementTier:
    last = state.last_interaction_at
    if last is None or days_between(last, at) >= rules.silent_after_days:
        return EngagementTier.SILENT
    contribution, reactions = scores_at(state, at, rules)
    if contribution >= rules.active_score:
        return EngagementTier.ACTIVE
    if contribution >= rules.participant_score or reactions >= rules.participant_reactions:
        return EngagementTier.PARTICIPANT
    return EngagementTier.LURKER


def next_tier_change(state: MemberState, at: datetime, rules: EngagementRules) -> datetime | None:
    """When the tier would next fall if nothing else happened (tiers only fall with time)."""
    tier = tier_at(state, at, rules)
    if tier is EngagementTier.SILENT or state.last_interaction_at is None:
        return None
    candidates = [after_days(state.last_interaction_at, rules.silent_after_days)]
    if state.scores_at is None:
        return min(candidates)
    contribution, reactions, since = state.contribution_score, state.reaction_score, state.scores_at
    if tier is EngagementTier.ACTIVE:
        falls = crossing_time(contribution, since, rules.active_score, rules.contribution_half_life_days)
        candidates.append(falls or at)
    elif tier is EngagementTier.PARTICIPANT:
        # A participant stays one while either score is above its bar.
        bars = [
            crossing_time(contribution, since, rules.participant_score, rules.contribution_half_life_days),
            crossing_time(reactions, since, rules.participant_reactions, rules.reaction_half_life_days),
        ]
        candidates.append(max((t for t in bars if t is not None), default=at))
    return min(candidates)
