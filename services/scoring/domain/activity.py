"""A member's accumulated activity and the state derived from it.

Foundation rules, kept deliberately small until the scoring issue replaces them with the
documented tiers, lifecycle and BG/NBD model: a member is ``new`` when first seen and
``active`` from their first purchase; chat makes them a ``participant``, else ``silent``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts import (
    EngagementTier,
    Lifecycle,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    MemberStateV1,
    PurchaseKind,
)


@dataclass(frozen=True)
class MemberActivity:
    member_id: str
    first_seen_at: datetime
    last_event_at: datetime
    chat_events: int = 0
    community_events: int = 0
    purchases: int = 0
    spend_minor: int = 0
    lifecycle: Lifecycle = Lifecycle.NEW
    engagement_tier: EngagementTier = EngagementTier.SILENT
    state_version: int = 0


def apply_event(current: MemberActivity | None, event: MemberEvent) -> MemberActivity:
    """The member's activity after ``event`` (events may arrive late: times only move forward)."""
    activity = current or MemberActivity(event.member_id, event.occurred_at, event.occurred_at)
    activity = replace(
        activity,
        first_seen_at=min(activity.first_seen_at, event.occurred_at),
        last_event_at=max(activity.last_event_at, event.occurred_at),
    )
    if isinstance(event, MemberChatV1):
        activity = replace(activity, chat_events=activity.chat_events + 1)
    elif isinstance(event, MemberCommunityV1):
        activity = replace(activity, community_events=activity.community_events + 1)
    elif isinstance(event, MemberPurchaseV1):
        sign = 1 if event.kind is PurchaseKind.SALE else -1
        activity = replace(
            activity,
            purchases=activity.purchases + (1 if event.kind is PurchaseKind.SALE else 0),
            spend_minor=activity.spend_minor + sign * event.total_minor,
        )
    lifecycle = Lifecycle.ACTIVE if activity.purchases > 0 else Lifecycle.NEW
    tier = EngagementTier.PARTICIPANT if activity.chat_events > 0 else EngagementTier.SILENT
    return replace(activity, lifecycle=lifecycle, engagement_tier=tier)


def state_changed(before: MemberActivity | None, after: MemberActivity) -> bool:
    return before is None or (before.lifecycle, before.engagement_tier) != (after.lifecycle, after.engagement_tier)


def state_event(before: MemberActivity | None, after: MemberActivity) -> MemberStateV1:
    return MemberStateV1(
        member_id=after.member_id,
        occurred_at=after.last_event_at,
        engagement_tier=after.engagement_tier,
        lifecycle=after.lifecycle,
        previous_lifecycle=before.lifecycle if before else None,
        reasons=("first_seen",) if before is None else ("activity",),
        state_version=after.state_version,
    )
