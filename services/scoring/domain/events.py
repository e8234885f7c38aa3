"""Applying one member event (or a merge) to a member's state, with the transitions it causes."""

from __future__ import annotations

from datetime import datetime

from services.scoring.domain.lifecycle import (
    FIRST_SEEN,
    MERGED,
    TIME,
    Transition,
    Trigger,
    advance,
    evaluate,
    settle,
)
from services.scoring.domain.member import (
    MemberState,
    add_decayed,
    evolve,
    fold_chat,
    fold_community,
    fold_purchase,
    new_member,
)
from services.scoring.domain.policy import Policy
from shared.contracts import (
    ChatKind,
    CommunityAction,
    Lifecycle,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseKind,
)


def trigger_of(event: MemberEvent) -> Trigger:
    """Sales and taking part (saying something, joining, following) are engaging; the rest is not."""
    if isinstance(event, MemberPurchaseV1):
        sale = event.kind is PurchaseKind.SALE
        return Trigger(engaging=sale, sale=sale)
    if isinstance(event, MemberChatV1):
        return Trigger(engaging=event.kind is not ChatKind.RECALL)
    if isinstance(event, MemberCommunityV1):
        return Trigger(engaging=event.action in (CommunityAction.JOIN, CommunityAction.FOLLOW))
    return TIME


def fold(state: MemberState, event: MemberEvent, policy: Policy) -> MemberState:
    if isinstance(event, MemberChatV1):
        complaint = event.kind not in (ChatKind.RECALL, ChatKind.REACTION) and bool(
            policy.complaints.matches(event.text)
        )
        return fold_chat(state, event, policy.rules.engagement, complaint)
    if isinstance(event, MemberCommunityV1):
        return fold_community(state, event)
    if isinstance(event, MemberPurchaseV1):
        return fold_purchase(state, event)
    return state


def apply_event(state: MemberState | None, event: MemberEvent, policy: Policy) -> tuple[MemberState, list[Transition]]:
    """The member after ``event``: due reviews before it first, then its facts, then the rules.

    A late event (earlier than the member's clock) is folded in and evaluated at the clock, so
    time never runs backwards for a member and nothing flaps.
    """
    at = event.occurred_at
    transitions: list[Transition] = []
    before: MemberState | None = None
    if state is None:
        state = new_member(event.member_id, at)
    else:
        state, transitions = advance(state, at, policy)
        before = state
    folded = fold(state, event, policy)
    if at < folded.first_seen_at:
        folded = evolve(folded, first_seen_at=at)
    after = evaluate(folded, at, trigger_of(event), policy)
    if before is None and after.lifecycle is Lifecycle.NEW:
        after = evolve(after, reasons=(FIRST_SEEN,))
    return settle(before, after, transitions), transitions


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def merge(
    survivor_id: str, survivor: MemberState | None, merged: MemberState, at: datetime, policy: Policy
) -> tuple[MemberState, list[Transition]]:
    """Fold ``merged`` into ``survivor`` deterministically: sums add, first/last times combine.

    The lifecycle kept is that of whichever of the two was active more recently (the survivor
    on a tie); the rules then run on the combined history at the later of the two clocks.
    """
    if survivor is None:
        # The survivor is new to scoring: it carries on as the merged member, under its own id.
        moved = evolve(merged, member_id=survivor_id, merged_into=None, reasons=(MERGED,), state_version=0)
        transitions: list[Transition] = []
        return settle(None, moved, transitions), transitions
    clock = max(survivor.clock, merged.clock, at)
    survivor, transitions = advance(survivor, clock, policy)
    merged, _ = advance(merged, clock, policy)
    engagement = policy.rules.engagement
    sums, sums_at = (survivor.contribution_score, survivor.reaction_score), survivor.scores_at
    if merged.scores_at is not None:
        sums, sums_at = add_decayed(
            sums,
            sums_at,
            (merged.contribution_score, merged.reaction_score),
            merged.scores_at,
            (engagement.contribution_half_life_days, engagement.reaction_half_life_days),
        )
    leader = merged if merged.last_activity_at > survivor.last_activity_at else survivor
    combined = evolve(
        survivor,
        first_seen_at=min(survivor.first_seen_at, merged.first_seen_at),
        lifecycle=leader.lifecycle,
        lifecycle_since=leader.lifecycle_since,
        reasons=(MERGED,) if leader is merged else survivor.reasons,
        contribution_score=sums[0],
        reaction_score=sums[1],
        scores_at=sums_at,
        last_interaction_at=_latest(survivor.last_interaction_at, merged.last_interaction_at),
        last_left_at=_latest(survivor.last_left_at, merged.last_left_at),
        last_unfollowed_at=_latest(survivor.last_unfollowed_at, merged.last_unfollowed_at),
        last_complaint_at=_latest(survivor.last_complaint_at, merged.last_complaint_at),
        active_until=_latest(survivor.active_until, merged.active_until),
        engaged_until=_latest(survivor.engaged_until, merged.engaged_until),
        first_purchase_at=_earliest(survivor.first_purchase_at, merged.first_purchase_at),
        last_purchase_at=_latest(survivor.last_purchase_at, merged.last_purchase_at),
        home_store_id=(
            merged.home_store_id
            if _latest(survivor.last_purchase_at, merged.last_purchase_at) != survivor.last_purchase_at
            else survivor.home_store_id
        ),
        sales=survivor.sales + merged.sales,
        refunds=survivor.refunds + merged.refunds,
        sales_minor=survivor.sales_minor + merged.sales_minor,
        refunds_minor=survivor.refunds_minor + merged.refunds_minor,
    )
    return settle(survivor, evaluate(combined, clock, TIME, policy), transitions), transitions


def tombstone(merged: MemberState, survivor_id: str) -> MemberState:
    """What is left of a merged member: a pointer to the survivor, never reviewed again."""
    return evolve(merged, merged_into=survivor_id, next_review_at=None)
