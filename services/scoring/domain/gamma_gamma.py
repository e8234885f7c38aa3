"""Gamma-Gamma: what a member's purchases are worth on average, shrunk toward the population.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
Journal of Marketing Research 42(4); Fader & Hardie (2013), "The Gamma-Gamma model of monetary value"
(note 025). Each transaction of a member is worth z ~ Gamma(p, ν), and ν varies across members as
Gamma(q, v). Seen through x transactions with mean m, a member's expected transaction value is a
weighted mean of m and the population mean: the fewer their purchases, the more it is the population's.

Money has whatever unit the caller gives it (v is in that unit, p and q have none). The model assumes
spend is independent of purchase frequency; x and m are usually taken over repeat purchases only, as
for BG/NBD, so members with x = 0 say nothing about spend and are left out of the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from services.scoring.domain.optimise import minimise_log_params

FloatArray: TypeAlias = NDArray[np.float64]

# Log-parameters are kept within this range while fitting so that exp() never overflows in a line search.
_GRADIENT_TOLERANCE = 1e-5
_LOG_PARAM_BOUND = 25.0


@dataclass(frozen=True)
class GammaGammaParams:
    """Population parameters; ``log_likelihood`` and ``members`` describe the fit that produced them.

    ``members`` counts the members with x > 0 that the fit used; ``log_likelihood`` is their total in the
    caller's money unit, ``None`` when the parameters were set by hand.
    """

    p: float
    q: float
    v: float
    log_likelihood: float | None = None
    members: int = 0

    def __post_init__(self) -> None:
        for name in ("p", "q", "v"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Gamma-Gamma parameter {name} must be a positive finite number, got {value!r}")

    @property
    def population_mean_spend(self) -> float:
        """E[transaction value] of a member about whom nothing is known: p·v / (q - 1), infinite if q ≤ 1."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else math.inf


class SpendHistories(NamedTuple):
    """Distinct (x, m) pairs of members with x > 0, with the number of members sharing each."""

    frequency: FloatArray
    mean_spend: FloatArray
    weights: FloatArray


def compress(frequency: ArrayLike, mean_spend: ArrayLike) -> SpendHistories:
    """Drop members without repeat purchases, then collapse identical (x, m) pairs into weighted rows."""
    xs, spend = _checked(frequency, mean_spend)
    buyers = xs > 0
    if not np.any(buyers):
        raise ValueError("no member has a repeat purchase (x > 0): spend cannot be fitted")
    # "+ 0.0" turns -0.0 into 0.0 so that the two never count as different pairs.
    rows, counts = np.unique(np.stack([xs[buyers], spend[buyers]], axis=1) + 0.0, axis=0, return_counts=True)
    return SpendHistories(rows[:, 0].copy(), rows[:, 1].copy(), counts.astype(np.float64))


def log_likelihood(
    params: GammaGammaParams, frequency: ArrayLike, mean_spend: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Total log-likelihood of the mean spends of the members with x > 0 (note 025, eq. 1a)."""
    spends = _weighted(frequency, mean_spend, weights)
    total, _ = _log_likelihood_and_gradient(np.log([params.p, params.q, params.v]), spends)
    return total


def fit(
    frequency: ArrayLike,
    mean_spend: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    initial: GammaGammaParams | None = None,
) -> GammaGammaParams:
    """Maximum-likelihood parameters from the members with x > 0.

    Without ``weights`` the pairs are compressed first; with them they are taken as ``compress`` output.
    The search runs over log-parameters with L-BFGS-B and the analytic gradient, on spends divided by
    their mean (so the starting point suits any currency and minor unit).
    """
    spends = compress(frequency, mean_spend) if weights is None else _weighted(frequency, mean_spend, weights)
    members = float(spends.weights.sum())
    money_scale = float(spends.weights @ spends.mean_spend) / members
    scaled = SpendHistories(spends.frequency, spends.mean_spend / money_scale, spends.weights)

    def negative_mean(log_params: FloatArray) -> tuple[float, FloatArray]:
        total, gradient = _log_likelihood_and_gradient(log_params, scaled)
        return -total / members, -gradient / members

    start = np.zeros(3) if initial is None else np.log([initial.p, initial.q, initial.v / money_scale])
    result = minimise_log_params(negative_mean, start, _LOG_PARAM_BOUND, _GRADIENT_TOLERANCE)
    if np.any(np.abs(result.x) >= _LOG_PARAM_BOUND - 1e-6):
        raise ValueError(
            "the Gamma-Gamma fit ran off to a degenerate limit (a parameter near 0 or infinity), e.g. every"
            f" member spends the same ({result.message})"
        )
    if np.max(np.abs(result.jac)) > _GRADIENT_TOLERANCE:
        raise ValueError(f"the Gamma-Gamma fit did not converge: {result.message}")
    p, q, v_scaled = (float(value) for value in np.exp(result.x))
    v = v_scaled * money_scale
    total, _ = _log_likelihood_and_gradient(np.log([p, q, v]), spends)
    return GammaGammaParams(p, q, v, log_likelihood=total, members=round(members))


@overload
def expected_spend(params: GammaGammaParams, frequency: float, mean_spend: float) -> float: ...
@overload
def expected_spend(params: GammaGammaParams, frequency: ArrayLike, mean_spend: ArrayLike) -> FloatArray: ...
def expected_spend(params: GammaGammaParams, frequency: ArrayLike, mean_spend: ArrayLike) -> FloatArray | float:
    """E[value of a future transaction | x, m] = p·(v + x·m) / (p·x + q - 1) (note 025, eq. 5).

    That is the population mean and m weighted q - 1 : p·x, so a member with x = 0 gets the population
    mean whatever m says; it needs p·x + q > 1 (and q > 1 for x = 0) to be finite.
    """
    xs, spend = _checked(frequency, mean_spend, allow_broadcast=True)
    p, q, v = params.p, params.q, params.v
    with np.errstate(divide="ignore"):
        values = np.asarray(p * (v + xs * spend) / (p * xs + q - 1), dtype=np.float64)
    return float(values) if values.ndim == 0 else values


def _log_likelihood_and_gradient(log_params: FloatArray, s: SpendHistories) -> tuple[float, FloatArray]:
    """Σ weight·log f(m | p, q, v, x) and its gradient in the log-parameters.

    f is the density of the mean of x Gamma(p, ν) values, ν ~ Gamma(q, v) integrated out; the terms in
    m and x alone are kept so that the total compares with published figures.
    """
    p, q, v = (float(value) for value in np.exp(log_params))
    x, m, w = s
    px = p * x
    log_pooled = np.log(v + x * m)
    psi_pooled = digamma(px + q)
    per_member = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_pooled
    )
    d_p = x * (psi_pooled - digamma(px) + np.log(x * m) - log_pooled)
    d_q = psi_pooled - digamma(q) + math.log(v) - log_pooled
    d_v = q / v - (px + q) / (v + x * m)
    gradient = np.array([p * (w @ d_p), q * (w @ d_q), v * (w @ d_v)])
    return float(w @ per_member), gradient


def _weighted(frequency: ArrayLike, mean_spend: ArrayLike, weights: ArrayLike | None) -> SpendHistories:
    """The members with x > 0 (and a non-zero weight), each counted once when ``weights`` is omitted."""
    xs, spend = _checked(frequency, mean_spend)
    counts = np.ones_like(xs) if weights is None else np.asarray(weights, dtype=np.float64)
    if counts.shape != xs.shape:
        raise ValueError(f"weights has shape {counts.shape}, the spends {xs.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("weights must be finite and non-negative")
    buyers = (xs > 0) & (counts > 0)
    if not np.any(buyers):
        raise ValueError("no member has a repeat purchase (x > 0): spend cannot be fitted")
    return SpendHistories(xs[buyers], spend[buyers], counts[buyers])


def _checked(
    frequency: ArrayLike, mean_spend: ArrayLike, *, allow_broadcast: bool = False
) -> tuple[FloatArray, FloatArray]:
    """(x, m) as float arrays, or a ValueError saying which rule how many of them break.

    m only has to be positive where x > 0: without a repeat purchase there is no mean to speak of.
    """
    xs, spend = (np.asarray(v, dtype=np.float64) for v in (frequency, mean_spend))
    if allow_broadcast:
        xs, spend = np.broadcast_arrays(xs, spend)
    elif not (xs.ndim == 1 and xs.shape == spend.shape):
        raise ValueError(f"frequency and mean_spend must be 1-D and of one length, got {xs.shape}, {spend.shape}")
    elif xs.size == 0:
        raise ValueError("no members given")
    rules = (
        (~(np.isfinite(xs) & np.isfinite(spend)), "are not finite numbers"),
        ((xs < 0) | (xs != np.floor(xs)), "have a frequency that is not a whole number ≥ 0"),
        ((xs > 0) & (spend <= 0), "have repeat purchases but a mean spend ≤ 0"),
    )
    for broken, what in rules:
        count = int(np.count_nonzero(broken))
        if count:
            raise ValueError(f"{count} of {xs.size} members {what}")
    return xs, spend
