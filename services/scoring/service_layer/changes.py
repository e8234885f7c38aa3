"""Saving evaluated members and publishing their transitions: shared by events and sweeps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from services.scoring.adapters import member_repository
from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores
from shared.contracts import KafkaRecord, MemberStateV1, derived_event_id, wrap
from shared.contracts.topics import MEMBER_STATE

SOURCE = "memberpulse/scoring"
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


async def commit_changes(
    conn: object, states: Sequence[MemberState], transitions: Sequence[Transition], policy: Policy, publish: Publish
) -> None:
    """Score the final states and every transition's snapshot in one go, save, and publish."""
    scored = with_scores([*states, *(t.after for t in transitions)], policy)
    finals, snapshots = scored[: len(states)], scored[len(states) :]
    transitions = [replace(t, after=after) for t, after in zip(transitions, snapshots, strict=True)]
    await member_repository.save(conn, finals)
    await member_repository.record_transitions(conn, transitions)
    if not transitions:
        return
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
