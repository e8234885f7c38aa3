"""Applying a batch of member events: load the members once, apply in order, save, publish changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from services.scoring.adapters import activity_repository
from services.scoring.domain.activity import MemberActivity, apply_event, state_changed, state_event
from shared.contracts import MemberEvent, derived_event_id, wrap
from shared.contracts.topics import MEMBER_STATE
from shared.kafka.records import Decoded, UnitOfWork

SOURCE = "memberpulse/scoring"


async def apply_member_events(uow: UnitOfWork, batch: Sequence[Decoded[MemberEvent]]) -> None:
    members = await activity_repository.load(uow.conn, {item.payload.member_id for item in batch})
    changed: dict[str, MemberActivity] = {}
    for item in batch:
        event = item.payload
        before = members.get(event.member_id)
        after = apply_event(before, event)
        if state_changed(before, after):
            after = replace(after, state_version=(before.state_version if before else 0) + 1)
            state = state_event(before, after)
            uow.publish(
                wrap(
                    state,
                    topic=MEMBER_STATE.name,
                    source=SOURCE,
                    event_id=derived_event_id("scoring.state", state.member_id, str(state.state_version)),
                )
            )
        members[event.member_id] = after
        changed[event.member_id] = after
    await activity_repository.save(uow.conn, changed.values())
