"""Circle marketing counts a community's engaged members as they were at the moment it fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.campaigns.domain.members import engaged_as_of
from shared.contracts import EngagementTier, Lifecycle, MemberStateV1

NOON = datetime(2026, 5, 1, 12, tzinfo=UTC)


def change(
    member_id: str, tier: EngagementTier, at: datetime, communities: tuple[str, ...] = ("c-1",)
) -> MemberStateV1:
    return MemberStateV1(
        member_id=member_id,
        occurred_at=at,
        engagement_tier=tier,
        lifecycle=Lifecycle.ACTIVE,
        state_version=int((at - NOON).total_seconds()) + 10_000,
        communities=communities,
    )


def test_changes_up_to_the_moment_count_and_later_ones_do_not():
    changes = [
        change("joins-before", EngagementTier.ACTIVE, NOON - timedelta(hours=1)),
        change("quiet-before", EngagementTier.LURKER, NOON - timedelta(minutes=5)),
        change("joins-after", EngagementTier.ACTIVE, NOON + timedelta(minutes=1)),
        change("left-the-community", EngagementTier.ACTIVE, NOON - timedelta(hours=2), communities=("c-2",)),
    ]
    stored = ["quiet-before", "left-the-community", "unchanged"]
    assert engaged_as_of("c-1", NOON, stored, changes) == ["joins-before", "unchanged"]


def test_a_members_latest_change_before_the_moment_is_the_one_that_counts():
    changes = [
        change("m-1", EngagementTier.LURKER, NOON - timedelta(minutes=1)),
        change("m-1", EngagementTier.PARTICIPANT, NOON - timedelta(hours=1)),
    ]
    assert engaged_as_of("c-1", NOON, [], changes) == []
