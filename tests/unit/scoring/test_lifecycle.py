"""Lifecycle and churn warnings: every documented transition, with its reason codes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.scoring.domain import lifecycle
from services.scoring.domain.bgnbd import BgNbdParams
from services.scoring.domain.events import apply_event
from services.scoring.domain.lifecycle import Transition, advance
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy, ScoringModel
from shared.contracts import ChatKind, CommunityAction, Lifecycle, MemberEvent, PurchaseKind
from tests.unit.scoring.events import chat, community, day, purchase

POLICY = Policy()


def run(events: Sequence[MemberEvent], *, until: float | None = None) -> tuple[MemberState, list[Transition]]:
    """Apply the events in order, then let time run to day ``until`` as the sweeper would."""
    state: MemberState | None = None
    transitions: list[Transition] = []
    for event in events:
        state, caused = apply_event(state, event, POLICY)
        transitions += caused
    assert state is not None
    if until is not None:
        state, caused = advance(state, day(until), POLICY)
        transitions += caused
    return state, transitions


def path(transitions: Sequence[Transition]) -> list[tuple[str | None, str, tuple[str, ...]]]:
    """The lifecycle changes only (tier-only changes left out), as (from, to, reasons)."""
    return [
        (t.before.lifecycle.value if t.before else None, t.after.lifecycle.value, t.after.reasons)
        for t in transitions
        if t.before is None or t.before.lifecycle is not t.after.lifecycle
    ]


def test_a_member_is_new_when_first_seen() -> None:
    state, transitions = run([chat(0)])
    assert state.lifecycle is Lifecycle.NEW
    assert path(transitions) == [(None, "new", ("first_seen",))]


def test_a_repeat_purchase_makes_a_new_member_active() -> None:
    _, transitions = run([purchase(0), purchase(7)])
    assert path(transitions)[-1] == ("new", "active", ("repeat_purchase",))


def test_a_new_member_settles_in_after_thirty_days() -> None:
    state, transitions = run([purchase(0)], until=31)
    assert state.lifecycle is Lifecycle.ACTIVE
    assert path(transitions)[-1] == ("new", "active", ("settled_in",))
    assert day(30) < transitions[-1].at <= day(30.0001)


def test_buying_late_against_ones_own_rhythm_is_a_churn_warning() -> None:
    weekly = [purchase(d) for d in range(0, 70, 7)]
    state, transitions = run(weekly, until=63 + 15)
    assert state.lifecycle is Lifecycle.AT_RISK
    assert "overdue_vs_own_cadence" in state.reasons
    warned = next(t for t in transitions if t.after.lifecycle is Lifecycle.AT_RISK)
    # Own mean gap 7 days, overdue at 2x but never sooner than 14 days: day 63 + 14.
    assert day(77) <= warned.at <= day(77.0001)


def test_p_alive_falling_below_the_threshold_is_a_churn_warning() -> None:
    state, _ = run([purchase(d) for d in (0, 2, 4, 6)], until=200)
    assert state.lifecycle in (Lifecycle.AT_RISK, Lifecycle.DORMANT)
    reasons_seen = {r for r in lifecycle.warning_reasons(state, day(100), POLICY)}
    assert "p_alive_below_threshold" in reasons_seen


def test_a_model_that_sees_almost_nobody_lapse_schedules_no_p_alive_review() -> None:
    """A fit with a near 0 puts the P(alive) crossing centuries out: never, not a date overflow."""
    nobody_lapses = dataclasses.replace(POLICY, model=ScoringModel(1, BgNbdParams(0.78, 55.0, 1e-9, 10_000.0)))
    state = None
    for event in [purchase(d) for d in (0, 9, 21)]:
        state, _ = apply_event(state, event, nobody_lapses)
    assert state is not None
    assert lifecycle.p_alive_falls_at(state, nobody_lapses) is None
    advanced, _ = advance(state, day(400), nobody_lapses)
    assert advanced.next_review_at is None or advanced.next_review_at < day(40_000)


def test_leaving_unfollowing_and_complaining_are_warnings_with_their_own_reasons() -> None:
    for event, reason in (
        (community(1, CommunityAction.LEAVE), "left_community"),
        (community(1, CommunityAction.UNFOLLOW), "unfollowed"),
        (chat(1, text="牛奶过期了，我要投诉！"), "complaint"),
        (chat(1, text="Worst service ever, never again"), "complaint"),
    ):
        state, _ = run([purchase(0), purchase(0.5), event])
        assert state.lifecycle is Lifecycle.AT_RISK, reason
        assert reason in state.reasons


def test_an_active_chatter_going_quiet_is_an_engagement_drop() -> None:
    chatty = [chat(d, kind=ChatKind.TOPIC_STARTED) for d in range(0, 40, 2)]
    # Weekly shopping until day 98, so only the chat tells: silent from day 38 + 60.
    weekly = [purchase(d) for d in range(0, 100, 7)]
    state, _ = run(sorted([*weekly, *chatty], key=lambda e: e.occurred_at), until=101)
    assert state.lifecycle is Lifecycle.AT_RISK
    assert state.reasons == ("engagement_drop",)


def test_a_purchase_with_no_warning_left_recovers_an_at_risk_member() -> None:
    _, transitions = run([purchase(0), purchase(1), chat(2, text="this is a scam"), purchase(40)])
    assert [p[:2] for p in path(transitions)][-2:] == [("active", "at_risk"), ("at_risk", "active")]
    assert path(transitions)[-1][2] == ("recovered",)


def test_half_a_year_without_purchase_or_interaction_is_dormant() -> None:
    state, transitions = run([purchase(0), purchase(20)], until=20 + 181)
    assert state.lifecycle is Lifecycle.DORMANT
    assert path(transitions)[-1] == ("at_risk", "dormant", ("inactive",))


def test_a_dormant_member_buying_again_is_reactivated_then_active_a_month_later() -> None:
    state, transitions = run([purchase(0), purchase(20), purchase(300)], until=300 + 31)
    lifecycle_path = [p[:2] for p in path(transitions)]
    assert ("dormant", "reactivated") in lifecycle_path
    assert path(transitions)[lifecycle_path.index(("dormant", "reactivated"))][2] == ("purchase",)
    assert state.lifecycle is Lifecycle.ACTIVE


def test_a_refund_takes_value_back_and_is_not_a_purchase() -> None:
    state, _ = run([purchase(0, total_minor=10_000), purchase(3, total_minor=4_000, kind=PurchaseKind.REFUND)])
    assert state.sales == 1
    assert state.net_spend_minor == 6_000
    assert state.lifecycle is Lifecycle.NEW


def test_nothing_changes_means_no_transition() -> None:
    _, first = run([chat(0)])
    _, again = run([chat(0), chat(0.1)])
    assert len(again) == len(first)


def test_a_late_event_never_moves_the_clock_back() -> None:
    state, _ = run([chat(10), chat(2)])
    assert state.clock == day(10)
    assert state.first_seen_at == day(2)
