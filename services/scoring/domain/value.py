"""A member's expected future value, and the part of it the business stands to lose.

Value is BG/NBD's expected purchases, step by step over a horizon, times Gamma-Gamma's expected
spend per purchase, discounted per step (Fader, Hardie & Lee 2005, "RFM and CLV"; the step-wise sum
is the one lifetimes' ``customer_lifetime_value`` uses). Money comes out in the unit the spend model
was fitted in; callers keep money in integer minor units, pass floats here and round the result.
"""

from __future__ import annotations

import math
from typing import TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from services.scoring.domain.bgnbd import BgNbdParams, expected_purchases
from services.scoring.domain.gamma_gamma import GammaGammaParams, expected_spend

FloatArray: TypeAlias = NDArray[np.float64]

# Horizon / step within this of a whole number counts as that whole number of steps (float noise).
_WHOLE_STEPS_TOLERANCE = 1e-9


@overload
def customer_value(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    x: float,
    t_x: float,
    T: float,
    mean_spend: float,
    *,
    horizon_periods: float,
    periods_per_step: float,
    discount_rate_per_step: float,
) -> float: ...
@overload
def customer_value(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    mean_spend: ArrayLike,
    *,
    horizon_periods: float,
    periods_per_step: float,
    discount_rate_per_step: float,
) -> FloatArray: ...
def customer_value(
    bg: BgNbdParams,
    gg: GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    mean_spend: ArrayLike,
    *,
    horizon_periods: float,
    periods_per_step: float,
    discount_rate_per_step: float,
) -> FloatArray | float:
    """Discounted expected spend over the next ``horizon_periods``: Σ_k ΔE[N]_k · E[spend] / (1 + d)^k.

    Unit-agnostic by design: a "period" is whatever time unit t_x, T and the BG/NBD fit use, and a
    "step" is the cash-flow interval over which ``discount_rate_per_step`` applies. The scoring service
    works in days, so five years monthly at 10 % a year is ``horizon_periods=1826.25``,
    ``periods_per_step=365.25 / 12`` and ``discount_rate_per_step=1.10 ** (1 / 12) - 1``.

    Step k ends at k·s (s = ``periods_per_step``) and holds the purchases expected in ((k-1)·s, k·s],
    discounted by (1 + d)^k. A horizon that is not a whole number of steps ends with a shorter step,
    discounted at its fractional exponent, so nothing past the horizon is counted.
    """
    if not (math.isfinite(horizon_periods) and horizon_periods > 0):
        raise ValueError(f"horizon_periods must be positive, got {horizon_periods!r}")
    if not (math.isfinite(periods_per_step) and periods_per_step > 0):
        raise ValueError(f"periods_per_step must be positive, got {periods_per_step!r}")
    if not (math.isfinite(discount_rate_per_step) and discount_rate_per_step > -1):
        raise ValueError(f"discount_rate_per_step must be above -1, got {discount_rate_per_step!r}")
    steps = math.ceil(horizon_periods / periods_per_step - _WHOLE_STEPS_TOLERANCE)
    step_ends = np.minimum(np.arange(1, steps + 1) * periods_per_step, horizon_periods)
    spend = np.asarray(expected_spend(gg, x, mean_spend), dtype=np.float64)
    # All steps in one call: the step ends run along a new leading axis, so the forecast is
    # evaluated for (step, member) pairs at once rather than once per step (its fixed cost per
    # call dominated for the small batches of live traffic).
    member_dims = np.broadcast(np.asarray(x), np.asarray(t_x), np.asarray(T)).ndim
    ends = step_ends.reshape(-1, *([1] * member_dims))
    purchases_by_end = np.asarray(expected_purchases(bg, ends, x, t_x, T), dtype=np.float64)
    in_step = np.diff(purchases_by_end, axis=0, prepend=0.0)
    discounted_purchases = (in_step / (1 + discount_rate_per_step) ** (ends / periods_per_step)).sum(axis=0)
    values = discounted_purchases * spend
    return float(values) if values.ndim == 0 else values


@overload
def value_at_risk(value: float, p_alive: float) -> float: ...
@overload
def value_at_risk(value: ArrayLike, p_alive: ArrayLike) -> FloatArray: ...
def value_at_risk(value: ArrayLike, p_alive: ArrayLike) -> FloatArray | float:
    """value × (1 - P(alive)): a win-back ranking that grows with both what a member is worth and the
    chance that they have already left.

    ``customer_value`` already weighs future purchases by P(alive), so this is a score, not the money
    lost if the member has gone; that would be value / P(alive) × (1 - P(alive)).
    """
    worth = np.asarray(value, dtype=np.float64)
    alive = np.asarray(p_alive, dtype=np.float64)
    if np.any((alive < 0) | (alive > 1) | np.isnan(alive)):
        raise ValueError("p_alive must be a probability in [0, 1]")
    at_risk = np.asarray(worth * (1.0 - alive), dtype=np.float64)
    return float(at_risk) if at_risk.ndim == 0 else at_risk
