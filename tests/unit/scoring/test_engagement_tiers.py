"""Engagement tiers: what a member's community activity makes them, and how it fades."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.scoring.domain.engagement import next_tier_change, tier_at
from services.scoring.domain.events import apply_event
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.rules import EngagementRules, ScoringRules
from shared.contracts import ChatKind, CommunityAction, EngagementTier
from tests.unit.scoring.events import chat, community, day

POLICY = Policy()
RULES = POLICY.rules.engagement


def _after(*events: object, policy: Policy = POLICY) -> MemberState:
    state = None
    for event in events:
        state, _ = apply_event(state, event, policy)  # type: ignore[arg-type]
    assert state is not None
    return state


def test_one_message_makes_a_participant() -> None:
    assert _after(chat(0)).engagement_tier is EngagementTier.PARTICIPANT


def test_a_couple_of_messages_a_week_kept_up_makes_an_active_member() -> None:
    state = _after(*(chat(d) for d in range(0, 42, 3)))
    assert state.engagement_tier is EngagementTier.ACTIVE


def test_joining_without_saying_anything_makes_a_lurker() -> None:
    assert _after(community(0, CommunityAction.JOIN)).engagement_tier is EngagementTier.LURKER


def test_reactions_alone_make_a_participant_once_there_are_enough() -> None:
    assert _after(chat(0, kind=ChatKind.REACTION)).engagement_tier is EngagementTier.LURKER
    assert _after(*(chat(d, kind=ChatKind.REACTION) for d in (0, 1, 2))).engagement_tier is EngagementTier.PARTICIPANT


def test_sixty_quiet_days_make_anyone_silent() -> None:
    state = _after(*(chat(d, kind=ChatKind.TOPIC_STARTED) for d in range(20)))
    assert tier_at(state, day(19 + 59), RULES) is not EngagementTier.SILENT
    assert tier_at(state, day(19 + 60), RULES) is EngagementTier.SILENT


def test_activity_fades_with_the_configured_half_life() -> None:
    slow = Policy(rules=ScoringRules(engagement=EngagementRules(contribution_half_life_days=60.0)))
    events = [chat(d) for d in range(0, 42, 3)]
    fast_state, slow_state = _after(*events), _after(*events, policy=slow)
    assert tier_at(fast_state, day(80), RULES) is EngagementTier.LURKER
    assert tier_at(slow_state, day(80), slow.rules.engagement) is EngagementTier.ACTIVE


def test_the_member_is_due_for_review_just_after_the_score_crosses_the_bar() -> None:
    state = _after(*(chat(d) for d in range(0, 42, 3)))
    change = next_tier_change(state, state.clock, RULES)
    assert change is not None
    assert state.next_review_at is not None
    assert timedelta(0) < state.next_review_at - change <= timedelta(seconds=1)
    assert tier_at(state, state.next_review_at, RULES) is EngagementTier.PARTICIPANT
    assert tier_at(state, change - timedelta(seconds=1), RULES) is EngagementTier.ACTIVE


def test_a_recall_is_not_taking_part() -> None:
    base = _after(chat(0))
    recalled = _after(chat(0), chat(1, kind=ChatKind.RECALL))
    assert recalled.last_interaction_at == base.last_interaction_at


def test_late_chat_gives_the_same_scores_as_chat_in_order() -> None:
    events = [chat(d, kind=k) for d, k in ((0, ChatKind.MESSAGE), (3, ChatKind.REPLY), (9, ChatKind.REACTION))]
    in_order = _after(*events)
    late = _after(events[2], events[0], events[1])
    assert abs(in_order.contribution_score - late.contribution_score) < 1e-9
    assert abs(in_order.reaction_score - late.reaction_score) < 1e-9
    assert replace(in_order, contribution_score=0, reaction_score=0).scores_at == late.scores_at
