"""Member state that scoring publishes on every change (latest state per member)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shared.contracts.base import MemberEvent


class EngagementTier(StrEnum):
    ACTIVE = "active"
    PARTICIPANT = "participant"
    LURKER = "lurker"
    SILENT = "silent"


class ValueTier(StrEnum):
    VIP = "vip"
    HIGH = "high"
    MID = "mid"
    LOW = "low"


class Lifecycle(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    DORMANT = "dormant"
    REACTIVATED = "reactivated"


class MemberStateV1(MemberEvent):
    """The member's state after an event or a sweep; ``occurred_at`` is the event time it is valid at."""

    event_type: ClassVar[str] = "memberpulse.member.state.v1"

    engagement_tier: EngagementTier
    value_tier: ValueTier | None = None
    lifecycle: Lifecycle
    previous_lifecycle: Lifecycle | None = None
    reasons: tuple[str, ...] = Field(default=(), description="Reason codes of the latest transition")
    p_alive: float | None = Field(default=None, ge=0.0, le=1.0)
    expected_purchases_90d: float | None = Field(default=None, ge=0.0)
    clv_minor: int | None = None
    value_at_risk_minor: int | None = None
    region: str | None = None
    home_store_id: str | None = None
    communities: tuple[str, ...] = ()
    state_version: int = Field(ge=1, description="Increases by one with every published state")
