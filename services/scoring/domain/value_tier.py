"""Value tiers (VIP / high / mid / low) from RFM scores against the chain's current distribution.

Each of recency (days since the last purchase), frequency (purchases) and monetary value (net
spend) scores 1–5 by the member's quintile among all buyers; the sum (3–15) picks the tier:
VIP from 13, high from 10, mid from 7, low below. The quintile cut points are recomputed on a
schedule from all buyers (``python -m services.scoring tiers``, and periodically by the service)
and stored as a versioned set; members are placed against the latest set whenever they are
evaluated. Members who never bought have no value tier.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from shared.contracts import ValueTier

TIER_FLOORS: tuple[tuple[int, ValueTier], ...] = (
    (13, ValueTier.VIP),
    (10, ValueTier.HIGH),
    (7, ValueTier.MID),
    (3, ValueTier.LOW),
)


@dataclass(frozen=True)
class RfmCuts:
    """The 20th, 40th, 60th and 80th percentiles of each measure among buyers."""

    version: int
    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary_minor: tuple[float, ...]


def _quintile(value: float, cuts: Sequence[float]) -> int:
    """1..5: how many cut points ``value`` is above, plus one (ties stay low: most buy once)."""
    return 1 + bisect_left(list(cuts), value)


def rfm_score(recency_days: float, frequency: int, monetary_minor: int, cuts: RfmCuts) -> tuple[int, int, int]:
    # Recent is better, so recency scores inverted: at or below the 20th percentile scores 5.
    recency = 5 - bisect_left(list(cuts.recency_days), recency_days)
    return recency, _quintile(frequency, cuts.frequency), _quintile(monetary_minor, cuts.monetary_minor)


def value_tier(recency_days: float, frequency: int, monetary_minor: int, cuts: RfmCuts | None) -> ValueTier | None:
    if cuts is None or frequency <= 0:
        return None
    total = sum(rfm_score(recency_days, frequency, monetary_minor, cuts))
    return next(tier for floor, tier in TIER_FLOORS if total >= floor)
