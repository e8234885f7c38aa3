"""A campaign is data: what triggers it, whom it targets, what it offers and which guards apply.

These models are the one schema for the YAML files, the HTTP API and the stored versions, so a
definition is validated the same way wherever it comes from. Unknown keys are errors: a
misspelt ``holdout_pct`` must not silently become the default.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.offer import Channel, MessageType
from shared.contracts.state import EngagementTier, Lifecycle, ValueTier

CAMPAIGN_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriggerKind(StrEnum):
    LIFECYCLE_ENTERED = "lifecycle_entered"  # win-back (at_risk), reactivation (dormant), welcome (new)
    CROSS_SELL = "cross_sell"  # a purchase in a category → the complementary category
    UP_SELL = "up_sell"  # a purchase → the next price tier in the same category
    REPLENISHMENT = "replenishment"  # the member's own next purchase date has passed
    COMMUNITY_INTEREST = "community_interest"  # several members of a community ask about a category


class Trigger(Strict):
    kind: TriggerKind
    # lifecycle_entered: the state the member has just entered.
    lifecycle: Lifecycle | None = None
    # cross_sell / up_sell: purchases in these categories fire it (empty: any category).
    categories: tuple[str, ...] = ()
    # up_sell: only a line worth at least this much (minor units) shows the spend to move up.
    min_line_amount_minor: int = Field(default=0, ge=0)
    # replenishment: due at last purchase + factor × the member's mean gap between purchases,
    # once the member has bought at least ``min_purchases`` times.
    cadence_factor: float = Field(default=1.0, gt=0, le=10)
    min_purchases: int = Field(default=2, ge=2)
    # community_interest: category → words that show interest in it (matched case-folded, as
    # substrings, so they work for Chinese as for spaced scripts).
    keywords: dict[str, tuple[Annotated[str, Field(min_length=1)], ...]] = Field(default_factory=dict)
    min_members: int = Field(default=3, ge=1)
    window_hours: float = Field(default=24.0, gt=0)

    @model_validator(mode="after")
    def _kind_needs(self) -> Self:
        if self.kind is TriggerKind.LIFECYCLE_ENTERED and self.lifecycle is None:
            raise ValueError("a lifecycle_entered trigger names the lifecycle state, e.g. lifecycle: at_risk")
        if self.kind is not TriggerKind.LIFECYCLE_ENTERED and self.lifecycle is not None:
            raise ValueError(f"lifecycle is only for lifecycle_entered triggers, not {self.kind.value}")
        if self.kind is TriggerKind.COMMUNITY_INTEREST and not self.keywords:
            raise ValueError("a community_interest trigger needs keywords: {category: [word, ...]}")
        return self


class Audience(Strict):
    """Who may get the offer; an empty list means "any". All given conditions must hold."""

    lifecycle: tuple[Lifecycle, ...] = ()
    engagement_tier: tuple[EngagementTier, ...] = ()
    value_tier: tuple[ValueTier, ...] = ()
    regions: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    min_p_alive: float | None = Field(default=None, ge=0, le=1)
    min_value_at_risk_minor: int | None = Field(default=None, ge=0)
    # Marketing always needs consent not withdrawn; this also demands an explicit opt-in.
    explicit_consent: bool = False


class OfferSpec(Strict):
    """What the member is offered. For cross-sell and up-sell the SKU is chosen per purchase."""

    template: str = Field(min_length=1, max_length=128)
    sku: str | None = None
    category: str | None = None
    coupon_code: str | None = None
    coupon_value_minor: int = Field(default=0, ge=0)
    content: dict[str, str] = Field(default_factory=dict, description="Extra template variables")
    expires_after_days: float = Field(default=7.0, gt=0, le=366)


class Budget(Strict):
    max_per_day: int | None = Field(default=None, ge=0)
    max_total: int | None = Field(default=None, ge=0)
    coupon_money_minor: int | None = Field(default=None, ge=0, description="Total coupon value that may be issued")

    @property
    def limited(self) -> bool:
        return self.max_per_day is not None or self.max_total is not None or self.coupon_money_minor is not None


class ValueBasis(StrEnum):
    """What an offer is expected to be worth, for arbitration between campaigns."""

    VALUE_AT_RISK = "value_at_risk"  # win-back: what losing the member would cost
    CLV = "clv"
    BASKET = "basket"  # purchase-triggered: the triggering basket's value
    FIXED = "fixed"


class Campaign(Strict):
    id: str = Field(pattern=CAMPAIGN_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    trigger: Trigger
    audience: Audience = Audience()
    offer: OfferSpec
    message_type: MessageType = MessageType.MARKETING
    channels: tuple[Channel, ...] = Field(min_length=1, description="In order of preference")
    priority: int = Field(default=0, ge=0, le=1000, description="Higher wins")
    value_basis: ValueBasis = ValueBasis.FIXED
    expected_value_minor: int = Field(default=0, ge=0, description="The value used when value_basis is fixed")
    cooldown_days: float = Field(default=7.0, ge=0)
    budget: Budget = Budget()
    holdout_pct: float = Field(default=10.0, ge=0, le=100)
    attribution_window_days: float = Field(default=14.0, gt=0, le=366)
    # A deferrable offer that loses arbitration or meets a frequency cap waits for the next
    # free slot instead of being dropped.
    deferrable: bool = False
    locale: str | None = None

    @model_validator(mode="after")
    def _distinct_channels(self) -> Self:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels must not repeat")
        return self


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


def parse_campaign(data: Any) -> Campaign:
    """Validate one definition (a mapping from YAML or JSON); raises pydantic's ValidationError."""
    return Campaign.model_validate(data)
