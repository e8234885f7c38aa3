"""Small builders for campaigns' unit tests: a campaign, a member, a candidate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.campaigns.domain.definitions import parse_campaign
from services.campaigns.domain.members import MemberView
from services.campaigns.domain.triggers import Candidate, Versioned

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 12:00 in Shanghai: inside sending hours.
NOON = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def campaign(campaign_id: str = "win_back", **overrides: Any) -> Versioned:
    definition: dict[str, Any] = {
        "id": campaign_id,
        "name": campaign_id.replace("_", " "),
        "trigger": {"kind": "lifecycle_entered", "lifecycle": "at_risk"},
        "offer": {"template": campaign_id},
        "channels": ["wechat", "sms"],
        "holdout_pct": 0,
        "cooldown_days": 0,
    }
    definition.update(overrides)
    return Versioned(parse_campaign(definition), 1)


def member(member_id: str = "m-1", **overrides: Any) -> MemberView:
    return MemberView(member_id=member_id, zone=overrides.pop("zone", SHANGHAI), **overrides)


def candidate(
    c: Versioned, member_id: str = "m-1", at: datetime = NOON, occurrence: str = "state:2", **kw: Any
) -> Candidate:
    return Candidate(c, member_id, occurrence, at, **kw)
