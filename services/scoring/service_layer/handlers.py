"""Applying a batch of member events: load the members once, apply in order, save, publish changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.scoring.adapters import community_repository, member_repository, metrics
from services.scoring.domain.events import apply_event, merge, tombstone
from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState, new_member
from services.scoring.domain.policy import Policy
from services.scoring.service_layer import marks
from services.scoring.service_layer.arrivals import in_event_time_order, record_progress
from services.scoring.service_layer.changes import commit_changes
from services.scoring.service_layer.observe import count_transitions
from services.scoring.service_layer.policy_holder import PolicyHolder
from shared.contracts import (
    ChatKind,
    CommunityAction,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberMergedV1,
    MemberPurchaseV1,
    PurchaseKind,
)
from shared.kafka.consumer import Handler
from shared.kafka.records import Decoded, Rejection, RetryBatch, UnitOfWork
from shared.observability.logging import get_logger

log = get_logger(__name__)

_MAX_MERGE_HOPS = 8
_PRESENT = {
    CommunityAction.JOIN: True,
    CommunityAction.FOLLOW: True,
    CommunityAction.LEAVE: False,
    CommunityAction.UNFOLLOW: False,
}
# Positions in community_repository.ACTIVITY_COLUMNS.
_ACTIVITY_INDEX = {
    CommunityAction.JOIN: 0,
    CommunityAction.LEAVE: 1,
    CommunityAction.FOLLOW: 2,
    CommunityAction.UNFOLLOW: 3,
}
_MESSAGES_INDEX = 4


@dataclass
class _Batch:
    """What one batch changes beside member state: sales, communities, partition clocks, merges."""

    sales: list[tuple[str, str, datetime, int]] = field(default_factory=list)
    presence: dict[tuple[str, str], tuple[bool, datetime]] = field(default_factory=dict)
    activity: dict[str, list[int]] = field(default_factory=dict)
    merges: list[tuple[str, str]] = field(default_factory=list)

    def note_presence(self, community_id: str, member_id: str, present: bool, at: datetime) -> None:
        key = (community_id, member_id)
        known = self.presence.get(key)
        if known is None or at >= known[1]:
            self.presence[key] = (present, at)

    def count(self, community_id: str, index: int) -> None:
        self.activity.setdefault(community_id, [0, 0, 0, 0, 0])[index] += 1


def _survivor_of(states: dict[str, MemberState], member_id: str) -> str:
    for _ in range(_MAX_MERGE_HOPS):
        state = states.get(member_id)
        if state is None or state.merged_into is None:
            return member_id
        member_id = state.merged_into
    return member_id


async def _load_with_survivors(conn: Any, member_ids: set[str]) -> dict[str, MemberState]:
    states = await member_repository.load(conn, member_ids)
    for _ in range(_MAX_MERGE_HOPS):
        missing = {s.merged_into for s in states.values() if s.merged_into and s.merged_into not in states}
        if not missing:
            break
        states.update(await member_repository.load(conn, missing))
    return states


def _note_facts(batch: _Batch, event: MemberEvent, member_id: str) -> None:
    if isinstance(event, MemberPurchaseV1) and event.kind is PurchaseKind.SALE:
        batch.sales.append((member_id, event.purchase_id, event.occurred_at, event.total_minor))
    elif isinstance(event, MemberCommunityV1):
        batch.note_presence(event.community_id, member_id, _PRESENT[event.action], event.occurred_at)
        batch.count(event.community_id, _ACTIVITY_INDEX[event.action])
    elif isinstance(event, MemberChatV1) and event.kind is not ChatKind.RECALL:
        batch.note_presence(event.community_id, member_id, True, event.occurred_at)
        batch.count(event.community_id, _MESSAGES_INDEX)


def _apply_merge(
    states: dict[str, MemberState], event: MemberMergedV1, policy: Policy, batch: _Batch
) -> tuple[set[str], list[Transition]]:
    survivor_id = _survivor_of(states, event.member_id)
    merged_id = event.merged_member_id
    merged = states.get(merged_id)
    if merged_id == survivor_id or (merged is not None and merged.merged_into is not None):
        return set(), []  # already folded (a redelivered or repeated merge)
    if merged is None:
        # Never seen here: leave a pointer so the merged id's late events reach the survivor.
        states[merged_id] = tombstone(new_member(merged_id, event.occurred_at), survivor_id)
        return {merged_id}, []
    states[survivor_id], transitions = merge(survivor_id, states.get(survivor_id), merged, event.occurred_at, policy)
    states[merged_id] = tombstone(merged, survivor_id)
    batch.merges.append((merged_id, survivor_id))
    return {survivor_id, merged_id}, transitions


def _apply_one(
    states: dict[str, MemberState], event: MemberEvent, policy: Policy, facts: _Batch
) -> tuple[set[str], list[Transition]]:
    """Apply one event to the loaded states; on an exception nothing of it is kept."""
    if isinstance(event, MemberMergedV1):
        return _apply_merge(states, event, policy, facts)
    target = _survivor_of(states, event.member_id)
    if target != event.member_id:
        event = event.model_copy(update={"member_id": target})
    states[target], caused = apply_event(states.get(target), event, policy)
    _note_facts(facts, event, target)
    return {target}, caused


async def apply_member_events(
    uow: UnitOfWork, batch: Sequence[Decoded[MemberEvent]], policy: Policy, *, marks_await_reviews: bool = False
) -> None:
    arrivals = await in_event_time_order(uow, batch)
    wanted = {a.event.member_id for a in arrivals}
    wanted |= {a.event.merged_member_id for a in arrivals if isinstance(a.event, MemberMergedV1)}
    states = await _load_with_survivors(uow.conn, wanted)
    loaded = set(states)
    facts = _Batch()
    touched: set[str] = set()
    transitions: list[Transition] = []
    late = 0
    for arrival in arrivals:
        known = states.get(_survivor_of(states, arrival.event.member_id))
        late += known is not None and arrival.event.occurred_at < known.clock
        try:
            changed, caused = _apply_one(states, arrival.event, policy, facts)
        except Exception as exc:  # a bug meeting odd input: dead-letter the one event, keep the rest flowing
            log.error("could not apply event; dead-lettering it", member_id=arrival.event.member_id, error=repr(exc))
            uow.rejections.append(Rejection(arrival.origin, "handler_error", f"{type(exc).__name__}: {exc}"))
            continue
        touched |= changed
        transitions += caused
    conn = uow.conn
    await member_repository.record_sales(conn, facts.sales)
    await community_repository.set_presence(conn, facts.presence)
    await community_repository.add_activity(
        conn, {c: (n[0], n[1], n[2], n[3], n[4]) for c, n in facts.activity.items()}
    )
    for merged_id, survivor_id in facts.merges:
        await member_repository.move_member_rows(conn, merged_id, survivor_id)
    # Published oldest first, so each partition of member.state.v1 is in event-time order.
    transitions.sort(key=lambda t: t.at)
    if taken := await commit_changes(
        conn, [states[m] for m in sorted(touched)], transitions, policy, uow.publish, touched - loaded
    ):
        # Another replica created these members since we looked (a merge's pointer and the merged
        # id's first event, on two partitions): start the batch again, and find their rows this time.
        raise RetryBatch(f"members created concurrently: {sorted(taken)[:3]}")
    # The batch holds every event up to its newest (the consumer reads in step by event time): say
    # so on every partition this consumer owns, after the changes the batch caused.
    until = max((a.event.occurred_at for a in arrivals), default=None)
    if until is not None:
        owned = {partition for _, partition in uow.progress}
        for mark in await marks.after_batch(conn, owned, until, await_reviews=marks_await_reviews):
            uow.publish(mark)
    count_transitions(transitions)
    metrics.LATE_EVENTS.inc(late)


async def note_progress(uow: UnitOfWork, *, marks_await_reviews: bool = False) -> None:
    """The input is complete further with no event to apply (only marks came, or a partition
    caught up): the sweeper's watermark and member.state.v1's marks move on all the same."""
    until = uow.complete_until
    if until is None:
        return
    await record_progress(uow, {})
    owned = {partition for _, partition in uow.progress}
    for mark in await marks.after_batch(uow.conn, owned, until, await_reviews=marks_await_reviews):
        uow.publish(mark)


def member_events_handler(holder: PolicyHolder, *, marks_await_reviews: bool = False) -> Handler[MemberEvent]:
    async def handle(uow: UnitOfWork, batch: Sequence[Decoded[MemberEvent]]) -> None:
        await apply_member_events(uow, batch, await holder.ready(uow.conn), marks_await_reviews=marks_await_reviews)

    return handle
