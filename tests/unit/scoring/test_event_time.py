"""Event time: sweeps at any moment, and replaying at any speed, give the same transitions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.domain.events import apply_event, merge
from services.scoring.domain.lifecycle import Transition, advance
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from shared.contracts import ChatKind, CommunityAction, MemberEvent, PurchaseKind
from tests.unit.scoring.events import chat, community, day, purchase

POLICY = Policy()
END = 800.0

_event = st.one_of(
    st.builds(lambda d, k: chat(d, kind=k), st.floats(0, 700), st.sampled_from(list(ChatKind))),
    st.builds(lambda d: chat(d, text="投诉！"), st.floats(0, 700)),
    st.builds(lambda d, a: community(d, a), st.floats(0, 700), st.sampled_from(list(CommunityAction))),
    st.builds(lambda d: purchase(d), st.floats(0, 700)),
    st.builds(lambda d: purchase(d, kind=PurchaseKind.REFUND, total_minor=500), st.floats(0, 700)),
)
_history = st.lists(_event, min_size=1, max_size=25).map(lambda es: sorted(es, key=lambda e: e.occurred_at))


def _signature(transitions: list[Transition]) -> list[tuple[object, ...]]:
    return [
        (t.at, t.after.lifecycle, t.after.engagement_tier, t.after.reasons, t.after.state_version) for t in transitions
    ]


def _replay(history: list[MemberEvent], sweeps: list[float]) -> tuple[MemberState, list[Transition]]:
    """Events in order, with the sweeper running to each watermark in ``sweeps`` in between."""
    state: MemberState | None = None
    transitions: list[Transition] = []
    pending = sorted(sweeps)
    for event in history:
        while state is not None and pending and day(pending[0]) <= event.occurred_at:
            state, caused = advance(state, day(pending.pop(0)), POLICY)
            transitions += caused
        state, caused = apply_event(state, event, POLICY)
        transitions += caused
    assert state is not None
    state, caused = advance(state, day(END), POLICY)
    return state, transitions + caused


@settings(max_examples=150, deadline=None)
@given(history=_history, sweeps=st.lists(st.floats(0, 700), max_size=30))
def test_sweeping_at_any_moment_gives_the_same_transitions_as_never_sweeping(
    history: list[MemberEvent], sweeps: list[float]
) -> None:
    lived, lived_transitions = _replay(history, sweeps)
    replayed, replayed_transitions = _replay(history, [])
    assert _signature(lived_transitions) == _signature(replayed_transitions)
    assert lived == replayed


@settings(max_examples=100, deadline=None)
@given(history=_history)
def test_transitions_are_real_changes_in_event_time_order(history: list[MemberEvent]) -> None:
    _, transitions = _replay(history, [])
    times = [t.at for t in transitions]
    assert times == sorted(times)
    versions = [t.after.state_version for t in transitions]
    assert versions == list(range(1, len(transitions) + 1))
    for t in transitions[1:]:
        assert t.before is not None
        assert (t.before.lifecycle, t.before.engagement_tier) != (t.after.lifecycle, t.after.engagement_tier)


@settings(max_examples=100, deadline=None)
@given(history=_history)
def test_events_arriving_late_fold_into_the_same_activity(history: list[MemberEvent]) -> None:
    in_order, _ = _replay(history, [])
    late, _ = _replay([*history[1:], history[0]], [])
    assert (late.sales, late.refunds, late.net_spend_minor) == (
        in_order.sales,
        in_order.refunds,
        in_order.net_spend_minor,
    )
    assert (late.first_purchase_at, late.last_purchase_at) == (in_order.first_purchase_at, in_order.last_purchase_at)
    assert abs(late.contribution_score - in_order.contribution_score) < 1e-6 * max(1.0, in_order.contribution_score)


def test_a_merge_adds_both_histories_deterministically() -> None:
    a, _ = _replay([purchase(0, member="m_a"), chat(3, member="m_a")], [])
    b, _ = _replay([purchase(5, member="m_b"), purchase(9, member="m_b")], [])
    merged, _transitions = merge("m_a", a, b, day(10), POLICY)
    again, _ = merge("m_a", a, b, day(10), POLICY)
    assert merged == again
    assert merged.member_id == "m_a"
    assert merged.sales == 3
    assert merged.first_purchase_at == day(0)
    assert merged.last_purchase_at == day(9)
    assert merged.net_spend_minor == a.net_spend_minor + b.net_spend_minor


def test_a_merge_into_a_member_scoring_never_saw_carries_the_merged_history_over() -> None:
    b, _ = _replay([purchase(5, member="m_b")], [])
    moved, transitions = merge("m_a", None, b, day(10), POLICY)
    assert moved.member_id == "m_a"
    assert moved.sales == 1
    assert transitions
    assert transitions[0].after.reasons == ("merged",)
