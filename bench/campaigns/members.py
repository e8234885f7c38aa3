"""The bench's members: a fixed profile each, stored in campaigns.members before any trigger arrives.

A profile (region, home store, value and engagement tier, p_alive, value at risk) never changes
during a run: every state event of the member repeats it and only moves the lifecycle. So whether
a member is in a campaign's audience does not depend on which of their events campaigns has
applied yet, and the bench can tell in advance which trigger occurrences must be decided.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench.campaigns.catalog import stores_of
from bench.campaigns.config import REGIONS
from services.campaigns.domain.members import MemberView
from shared.contracts.state import EngagementTier, Lifecycle, MemberStateV1, ValueTier

VALUE_WEIGHTS = {ValueTier.VIP: 5, ValueTier.HIGH: 15, ValueTier.MID: 40, ValueTier.LOW: 40}
ENGAGEMENT_WEIGHTS = {
    EngagementTier.ACTIVE: 15,
    EngagementTier.PARTICIPANT: 25,
    EngagementTier.LURKER: 35,
    EngagementTier.SILENT: 25,
}


@dataclass(frozen=True)
class Profile:
    member_id: str
    region: str
    home_store_id: str | None
    value_tier: ValueTier
    engagement_tier: EngagementTier
    p_alive: float
    clv_minor: int
    value_at_risk_minor: int

    def view(self, zone: ZoneInfo) -> MemberView:
        """What campaigns sees of the member (no consent recorded: the chain's default applies)."""
        return MemberView(
            member_id=self.member_id,
            zone=zone,
            engagement_tier=self.engagement_tier,
            value_tier=self.value_tier,
            p_alive=self.p_alive,
            clv_minor=self.clv_minor,
            value_at_risk_minor=self.value_at_risk_minor,
            home_store_id=self.home_store_id,
            region=self.region,
        )

    def state(self, at: datetime, lifecycle: Lifecycle, previous: Lifecycle | None, version: int) -> MemberStateV1:
        return MemberStateV1(
            member_id=self.member_id,
            occurred_at=at,
            engagement_tier=self.engagement_tier,
            value_tier=self.value_tier,
            lifecycle=lifecycle,
            previous_lifecycle=previous,
            reasons=("bench",),
            p_alive=self.p_alive,
            expected_purchases_90d=round(6 * self.p_alive, 3),
            clv_minor=self.clv_minor,
            value_at_risk_minor=self.value_at_risk_minor,
            region=self.region,
            home_store_id=self.home_store_id,
            state_version=version,
        )


def profiles(prefix: str, count: int, rng: random.Random) -> list[Profile]:
    out = []
    for n in range(count):
        region = REGIONS[n % len(REGIONS)]
        clv = int(rng.lognormvariate(10.5, 0.8))
        p_alive = round(rng.uniform(0.05, 0.98), 3)
        out.append(
            Profile(
                member_id=f"{prefix}{n:07d}",
                region=region,
                home_store_id=rng.choice(stores_of(region)),
                value_tier=rng.choices(list(VALUE_WEIGHTS), weights=list(VALUE_WEIGHTS.values()))[0],
                engagement_tier=rng.choices(list(ENGAGEMENT_WEIGHTS), weights=list(ENGAGEMENT_WEIGHTS.values()))[0],
                p_alive=p_alive,
                clv_minor=clv,
                value_at_risk_minor=int(clv * (1 - p_alive)),
            )
        )
    return out


COLUMNS = (
    "member_id",
    "state_version",
    "state_at",
    "lifecycle",
    "engagement_tier",
    "value_tier",
    "p_alive",
    "clv_minor",
    "value_at_risk_minor",
    "home_store_id",
    "region",
)


async def preseed(conn: Any, members: Sequence[Profile], since: datetime) -> None:
    """Store every member as active at state version 1 (COPY), as if scoring had published them long ago."""
    rows = [
        (
            p.member_id,
            1,
            since,
            Lifecycle.ACTIVE.value,
            p.engagement_tier.value,
            p.value_tier.value,
            p.p_alive,
            p.clv_minor,
            p.value_at_risk_minor,
            p.home_store_id,
            p.region,
        )
        for p in members
    ]
    await conn.copy_records_to_table("members", records=rows, columns=COLUMNS)
