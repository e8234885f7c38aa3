"""BG/NBD: how many more purchases a member will make, and whether they are still a customer at all.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the Pareto/NBD
model", Marketing Science 24(2), 275-284. While alive, a member buys as a Poisson process with rate
λ ~ Gamma(shape r, rate α); after each repeat purchase they drop out for good with probability
p ~ Beta(a, b). A member's history is (x, t_x, T): x repeat purchases, the last at t_x, observed for T,
both times counted from the first purchase.

Time has whatever unit the caller gives it (the service uses days): α is in that unit, r, a and b
have none. Everything here is pure and vectorised over members; fitting first collapses identical
histories into weighted rows, since a base of millions has far fewer distinct (x, t_x, T) triples
when times are whole days.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult
from scipy.special import digamma, expit, gammaln, hyp2f1

from services.scoring.domain.optimise import minimise_log_params

FloatArray: TypeAlias = NDArray[np.float64]

# Log-parameters are kept within this range while fitting so that exp() never overflows in a line search.
_GRADIENT_TOLERANCE = 1e-4
# log a and log b both above this: the homogeneous-dropout limit (see _settle_in_the_limit).
_HOMOGENEOUS_LOG = 10.0
_LIMIT_CAP_LOG = 15.0
_LOG_PARAM_BOUND = 25.0


@dataclass(frozen=True)
class BgNbdParams:
    """Population parameters; ``log_likelihood`` and ``members`` describe the fit that produced them.

    ``log_likelihood`` is the total over members in the caller's time unit (it changes with the unit by
    -Σx·log(factor), the parameters other than α do not), ``None`` when the parameters were set by hand.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float | None = None
    members: int = 0

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"BG/NBD parameter {name} must be a positive finite number, got {value!r}")


class Histories(NamedTuple):
    """Purchase histories, one row per distinct (x, t_x, T) with the number of members sharing it."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weights: FloatArray


def compress(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Histories:
    """Collapse identical histories into one row each, weighted by how many members share it.

    The likelihood is a sum over members, so a weighted sum over distinct histories is the same number
    for a fraction of the work: the fit then costs what the distinct triples cost, not the members.
    """
    xs, recency, age = _checked_histories(x, t_x, T)
    # "+ 0.0" turns -0.0 into 0.0 so that the two never count as different histories.
    rows, counts = np.unique(np.stack([xs, recency, age], axis=1) + 0.0, axis=0, return_counts=True)
    return Histories(rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy(), counts.astype(np.float64))


def log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> float:
    """Total log-likelihood of the histories (each counted ``weights`` times, once when omitted)."""
    histories = _weighted_histories(x, t_x, T, weights)
    total, _ = _log_likelihood_and_gradient(np.log([params.r, params.alpha, params.a, params.b]), histories)
    return total


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    initial: BgNbdParams | None = None,
) -> BgNbdParams:
    """Maximum-likelihood parameters for the histories.

    Without ``weights`` the histories are compressed first; with them they are taken as already
    compressed (``compress`` output), so a caller can time or reuse the two steps separately.
    The search runs over log-parameters (so they stay positive) with L-BFGS-B and the analytic
    gradient, on times divided by the longest T (so the starting point suits any time unit).
    """
    histories = compress(x, t_x, T) if weights is None else _weighted_histories(x, t_x, T, weights)
    time_scale = float(histories.T.max())
    if time_scale <= 0:
        raise ValueError("every member was observed for T = 0: there is nothing to fit")
    scaled = Histories(histories.x, histories.t_x / time_scale, histories.T / time_scale, histories.weights)
    members = float(histories.weights.sum())

    def negative_mean(log_params: FloatArray) -> tuple[float, FloatArray]:
        total, gradient = _log_likelihood_and_gradient(log_params, scaled)
        return -total / members, -gradient / members

    start = np.zeros(4) if initial is None else np.log([initial.r, initial.alpha / time_scale, initial.a, initial.b])
    result = minimise_log_params(negative_mean, start, _LOG_PARAM_BOUND, _GRADIENT_TOLERANCE)
    if _is_homogeneous(result.x):
        result = _settle_in_the_limit(negative_mean, result.x)
    _require_converged(result.x, result.jac, result.message)
    r, alpha_scaled, a, b = np.exp(result.x)
    fitted = BgNbdParams(float(r), float(alpha_scaled * time_scale), float(a), float(b))
    total, _ = _log_likelihood_and_gradient(np.log([fitted.r, fitted.alpha, fitted.a, fitted.b]), histories)
    return BgNbdParams(fitted.r, fitted.alpha, fitted.a, fitted.b, log_likelihood=total, members=round(members))


@overload
def p_alive(params: BgNbdParams, x: float, t_x: float, T: float) -> float: ...
@overload
def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray: ...
def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray | float:
    """P(still alive at T | x, t_x, T) (Fader, Hardie & Lee, note 021), broadcast over the inputs.

    A member with no repeat purchase is alive for sure: in BG/NBD dropout only happens right after a
    repeat purchase. Otherwise the longer the silence since t_x, the likelier they already left.
    """
    xs, recency, age = _checked_histories(x, t_x, T, allow_broadcast=True)
    return _as_result(_p_alive(params, xs, recency, age))


@overload
def expected_purchases(params: BgNbdParams, t: float, x: float, t_x: float, T: float) -> float: ...
@overload
def expected_purchases(params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray: ...
def expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray | float:
    """E[purchases in (T, T + t] | x, t_x, T], equation (10) of Fader, Hardie & Lee (2005).

    It factors as P(alive) times what a member known to be alive would buy; the latter holds a Gauss
    hypergeometric function that overflows for heavy buyers, where Euler's transformation of it is used.
    The formula divides by a - 1, so a = 1 exactly has no value here.
    """
    horizon = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(horizon)) or np.any(horizon < 0):
        raise ValueError("the prediction horizon t must be finite and non-negative")
    xs, recency, age = _checked_histories(x, t_x, T, allow_broadcast=True)
    horizon, xs, recency, age = np.broadcast_arrays(horizon, xs, recency, age)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    shape, beta_b, c = r + xs, b + xs, a + b + xs - 1
    log_unseen = np.log((alpha + age) / (alpha + age + horizon))  # log(1 - z), z = t / (α + T + t)
    z = horizon / (alpha + age + horizon)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_hyp = np.log(hyp2f1(shape, beta_b, c, z))
        euler = np.log(hyp2f1(c - shape, c - beta_b, c, z)) + (c - shape - beta_b) * log_unseen
    log_hyp = np.where(np.isfinite(log_hyp), log_hyp, euler)
    if_alive = (a + b + xs - 1) / (a - 1) * -np.expm1(log_hyp + shape * log_unseen)
    return _as_result(_p_alive(params, xs, recency, age) * if_alive)


def p_alive_of_one(params: BgNbdParams, x: int, t_x: float, T: float) -> float:
    """``p_alive`` for one member in plain floats: what the rules call on every event.

    The same log-odds form as the vectorised version, without numpy's per-call overhead (which
    is most of the cost for one member); a test holds the two to 1e-12.
    """
    if x <= 0:
        return 1.0
    log_odds_dropped = math.log(params.a / (params.b + x - 1)) + (params.r + x) * math.log(
        (params.alpha + T) / (params.alpha + t_x)
    )
    if log_odds_dropped > 0:
        odds_alive = math.exp(-log_odds_dropped)
        return odds_alive / (1.0 + odds_alive)
    return 1.0 / (1.0 + math.exp(log_odds_dropped))


def _p_alive(params: BgNbdParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    repeat = x > 0
    log_odds_dropped = np.log(params.a / (params.b + np.maximum(x, 1) - 1)) + (params.r + x) * np.log(
        (params.alpha + T) / (params.alpha + t_x)
    )
    alive: FloatArray = np.where(repeat, expit(-log_odds_dropped), 1.0)
    return alive


def _log_likelihood_and_gradient(log_params: FloatArray, h: Histories) -> tuple[float, FloatArray]:
    """Σ weight·log L(r, α, a, b | x, t_x, T) (FHL 2005, eq. 6) and its gradient in the log-parameters.

    Per member, L mixes "still alive at T" with "dropped out right after the purchase at t_x" (the
    latter only when x > 0); ``dropped_share`` is that second term's share of L, which is also
    1 - P(alive), and it weighs the two terms' derivatives.
    """
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    x, t_x, T, w = h
    repeat = x > 0
    log_alpha_T, log_alpha_tx = np.log(alpha + T), np.log(alpha + t_x)
    b_x_1 = b + np.maximum(x, 1) - 1
    log_alive = -(r + x) * log_alpha_T
    log_dropped = np.where(repeat, math.log(a) - np.log(b_x_1) - (r + x) * log_alpha_tx, -np.inf)
    log_mix = np.logaddexp(log_alive, log_dropped)
    per_member = (
        gammaln(r + x)
        - gammaln(r)
        + r * math.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
        + log_mix
    )
    dropped_share = np.exp(log_dropped - log_mix)
    alive_share = 1.0 - dropped_share
    psi_ab_x = digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + math.log(alpha) - alive_share * log_alpha_T - dropped_share * log_alpha_tx
    d_alpha = r / alpha - (r + x) * (alive_share / (alpha + T) + dropped_share / (alpha + t_x))
    d_a = digamma(a + b) - psi_ab_x + dropped_share / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - psi_ab_x - dropped_share / b_x_1
    gradient = np.array([r * (w @ d_r), alpha * (w @ d_alpha), a * (w @ d_a), b * (w @ d_b)])
    return float(w @ per_member), gradient


def _is_homogeneous(log_params: FloatArray) -> bool:
    return bool(log_params[2] > _HOMOGENEOUS_LOG and log_params[3] > _HOMOGENEOUS_LOG)


def _settle_in_the_limit(
    negative_mean: Callable[[FloatArray], tuple[float, FloatArray]], log_params: FloatArray
) -> OptimizeResult:
    """In the homogeneous-dropout limit, search again with a and b capped at e^``_LIMIT_CAP_LOG``.

    Past that, their log-gamma terms carry rounding noise (about 1e-6 per member at e^20) that
    stalls the line search before r and α are done. Below it the likelihood is smooth, and a Beta
    with a + b that large is one dropout chance for everyone to within 1e-4: the limit itself.
    """
    cap = np.array([np.inf, np.inf, _LIMIT_CAP_LOG, _LIMIT_CAP_LOG])
    start = log_params.copy()
    # Keep the ratio a / (a + b) while bringing both under the cap.
    start[2:] -= max(0.0, float(np.max(log_params[2:])) - _LIMIT_CAP_LOG)
    return minimise_log_params(negative_mean, start, _LOG_PARAM_BOUND, _GRADIENT_TOLERANCE, upper=cap)


def _require_converged(log_params: FloatArray, gradient: FloatArray, message: str) -> None:
    """L-BFGS-B may stop on a line search at machine precision; only a non-stationary point is a failure.

    When a and b both grow without bound, every member shares one dropout chance p = a / (a + b):
    the homogeneous-dropout limit, which a chain's data often sits in. Only their ratio is identified
    there, so a and b held at their cap are an answer, not a failure.
    """
    homogeneous = _is_homogeneous(log_params)
    at_bound = np.abs(log_params) >= _LOG_PARAM_BOUND - 1e-6
    if homogeneous:
        at_bound[2:] = False  # capped on purpose: see _settle_in_the_limit
    if np.any(at_bound):
        raise ValueError(
            "the BG/NBD fit ran off to a degenerate limit (a parameter near 0 or infinity); the histories do"
            f" not identify the model, e.g. nobody ever repeats or nobody ever lapses ({message})"
        )
    # The gradient is of the MEAN log-likelihood per member: 1e-4 there moves the total by far
    # less than the precision the line search stopped at (seen when a and b are both large and
    # only their ratio is well identified, as in a base where few members have lapsed).
    if np.max(np.abs(gradient)) > _GRADIENT_TOLERANCE:
        raise ValueError(f"the BG/NBD fit did not converge: {message}")


def _weighted_histories(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None) -> Histories:
    xs, recency, age = _checked_histories(x, t_x, T)
    if weights is None:
        return Histories(xs, recency, age, np.ones_like(xs))
    counts = np.asarray(weights, dtype=np.float64)
    if counts.shape != xs.shape:
        raise ValueError(f"weights has shape {counts.shape}, the histories {xs.shape}")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return Histories(xs, recency, age, counts)


def _checked_histories(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, allow_broadcast: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The histories as float arrays, or a ValueError saying which rule how many of them break.

    Fitting needs one row per member (same shape, not empty); predictions broadcast, so that a
    single horizon or history can be evaluated against many of the others.
    """
    xs, recency, age = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    if allow_broadcast:
        xs, recency, age = np.broadcast_arrays(xs, recency, age)
    elif not (xs.ndim == 1 and xs.shape == recency.shape == age.shape):
        raise ValueError(f"x, t_x and T must be 1-D and of one length, got {xs.shape}, {recency.shape}, {age.shape}")
    elif xs.size == 0:
        raise ValueError("no histories given")
    rules = (
        (~(np.isfinite(xs) & np.isfinite(recency) & np.isfinite(age)), "are not finite numbers"),
        ((xs < 0) | (xs != np.floor(xs)), "have an x that is not a whole number ≥ 0"),
        (recency < 0, "have t_x < 0"),
        (recency > age, "have t_x > T (last purchase after the end of observation)"),
        ((xs == 0) & (recency != 0), "have t_x ≠ 0 without a repeat purchase (x = 0)"),
    )
    for broken, what in rules:
        count = int(np.count_nonzero(broken))
        if count:
            raise ValueError(f"{count} of {xs.size} histories {what}")
    return xs, recency, age


def _as_result(values: FloatArray) -> FloatArray | float:
    return float(values) if values.ndim == 0 else values
