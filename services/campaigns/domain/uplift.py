"""Campaign uplift: how much a campaign changed conversion and revenue, measured against its holdout.

The difference of conversion rates gets Newcombe's hybrid score interval (Newcombe 1998, method 10),
built from the Wilson interval of each arm. Unlike the textbook Wald interval it stays inside
[-1, 1], behaves with zero or all conversions and keeps close to its nominal coverage for the
small arms early in a campaign. Incremental revenue scales the holdout's revenue to the treated
arm's size and takes the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist


@dataclass(frozen=True)
class Arm:
    """One side of the experiment: members in it, how many converted, what they spent (minor units)."""

    members: int
    converted: int
    revenue_minor: int

    def __post_init__(self) -> None:
        if self.members < 0 or not 0 <= self.converted <= self.members:
            raise ValueError(f"an arm needs 0 <= converted <= members, got {self.converted} of {self.members}")

    @property
    def rate(self) -> float | None:
        return self.converted / self.members if self.members else None


@dataclass(frozen=True)
class Uplift:
    """The report's numbers; a value is None when an arm it depends on is empty."""

    treated_rate: float | None
    holdout_rate: float | None
    absolute: float | None
    ci_low: float | None
    ci_high: float | None
    incremental_revenue_minor: int | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "treated_rate": self.treated_rate,
            "holdout_rate": self.holdout_rate,
            "absolute": self.absolute,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "incremental_revenue_minor": self.incremental_revenue_minor,
        }


def wilson(successes: int, trials: int, z: float) -> tuple[float, float]:
    """The Wilson score interval for a proportion (Newcombe 1998, method 3)."""
    if trials <= 0:
        raise ValueError("the Wilson interval needs at least one trial")
    z2 = z * z
    centre = (successes + z2 / 2) / (trials + z2)
    half = z / (trials + z2) * math.sqrt(successes * (trials - successes) / trials + z2 / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def uplift(treated: Arm, holdout: Arm, confidence: float = 0.95) -> Uplift:
    """Treated minus holdout conversion rate, its confidence interval and the incremental revenue."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be strictly between 0 and 1")
    p1, p2 = treated.rate, holdout.rate
    if p1 is None or p2 is None:
        # A rate is still worth showing for the arm that has members; nothing comparative is.
        return Uplift(p1, p2, None, None, None, None)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    l1, u1 = wilson(treated.converted, treated.members, z)
    l2, u2 = wilson(holdout.converted, holdout.members, z)
    difference = p1 - p2
    # Method 10: each side of the difference combines the matching sides of the two Wilson intervals.
    # Rounding can overshoot ±1 by an ulp at 0 % against 100 %; a difference of rates cannot.
    low = max(-1.0, difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    high = min(1.0, difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    # Exact arithmetic: revenue in minor units can be large enough for floats to lose whole units.
    expected = Fraction(holdout.revenue_minor * treated.members, holdout.members)
    return Uplift(
        treated_rate=p1,
        holdout_rate=p2,
        absolute=difference,
        ci_low=low,
        ci_high=high,
        incremental_revenue_minor=round(treated.revenue_minor - expected),
    )
