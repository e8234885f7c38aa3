"""Saving evaluated members and publishing their transitions: shared by events and sweeps."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from services.scoring.adapters import member_repository
from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState, evolve
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores
from shared.contracts import KafkaRecord, MemberStateV1, derived_event_id, wrap
from shared.contracts.topics import MEMBER_STATE
from shared.observability.logging import get_logger

SOURCE = "memberpulse/scoring"
log = get_logger(__name__)
Publish = Callable[[KafkaRecord], None]


def state_event(transition: Transition, communities: tuple[str, ...]) -> MemberStateV1:
    after = transition.after
    return MemberStateV1(
        member_id=after.member_id,
        occurred_at=transition.at,
        engagement_tier=after.engagement_tier,
        value_tier=after.value_tier,
        lifecycle=after.lifecycle,
        previous_lifecycle=transition.before.lifecycle if transition.before else None,
        reasons=after.reasons,
        p_alive=after.p_alive,
        expected_purchases_90d=after.expected_purchases,
        clv_minor=after.clv_minor,
        value_at_risk_minor=after.value_at_risk_minor,
        home_store_id=after.home_store_id,
        communities=communities,
        state_version=after.state_version,
    )


def _scored(states: Sequence[MemberState], policy: Policy, *, value: bool) -> list[MemberState]:
    """Scores for the batch, or, should the vectorised pass fail, member by member (none for a culprit).

    Scores are derived figures: a member the model cannot score must never hold up the state
    changes of everyone else in the batch.
    """
    try:
        return with_scores(states, policy, value=value)
    except Exception as exc:
        log.error("scoring the batch failed; scoring member by member", error=repr(exc))
    scored = []
    for state in states:
        try:
            [one] = with_scores([state], policy, value=value)
        except Exception as exc:
            log.error("member left unscored", member_id=state.member_id, error=repr(exc))
            one = state
        scored.append(one)
    return scored


async def commit_changes(
    conn: object,
    states: Sequence[MemberState],
    transitions: Sequence[Transition],
    policy: Policy,
    publish: Publish,
    created: Collection[str] = (),
) -> set[str]:
    """Score, save and publish; the ids in ``created`` another transaction created first (nothing is published then).

    Every transition's snapshot gets all scores, value included, as it is published. The saved
    rows get P(alive) and expected purchases at their clocks, and keep the value of their latest
    published state (the API computes it afresh when asked).
    """
    snapshots = _scored([t.after for t in transitions], policy, value=True)
    # A member whose last change in the batch was a transition ends as that very snapshot (the
    # common case in live traffic): its scored snapshot is its final row, scored once.
    scored_snapshot = {id(t.after): snapshot for t, snapshot in zip(transitions, snapshots, strict=True)}
    transitions = [replace(t, after=after) for t, after in zip(transitions, snapshots, strict=True)]
    published_value = {s.member_id: (s.clv_minor, s.value_at_risk_minor) for s in snapshots}
    rest = [s for s in states if id(s) not in scored_snapshot]
    rest_scored = {
        s.member_id: evolve(
            s, clv_minor=published_value[s.member_id][0], value_at_risk_minor=published_value[s.member_id][1]
        )
        if s.member_id in published_value
        else s
        for s in _scored(rest, policy, value=False)
    }
    finals = [scored_snapshot.get(id(s)) or rest_scored[s.member_id] for s in states]
    if taken := await member_repository.save(conn, finals, created):
        return taken
    await member_repository.record_transitions(conn, transitions)
    if not transitions:
        return set()
    communities = await member_repository.communities_of(conn, {t.after.member_id for t in transitions})
    for transition in transitions:
        event = state_event(transition, communities.get(transition.after.member_id, ()))
        publish(
            wrap(
                event,
                topic=MEMBER_STATE.name,
                source=SOURCE,
                event_id=derived_event_id("scoring.state", event.member_id, str(event.state_version)),
            )
        )
    return set()
