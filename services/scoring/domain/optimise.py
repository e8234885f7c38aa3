"""Maximum-likelihood search shared by the BG/NBD and Gamma-Gamma fits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeResult, minimize

FloatArray = NDArray[np.float64]
_RESTARTS = 4


def minimise_log_params(
    negative_mean: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    bound: float,
    gradient_tolerance: float,
    upper: FloatArray | None = None,
) -> OptimizeResult:
    """L-BFGS-B over log-parameters in [-bound, bound] (or up to ``upper``), with the analytic gradient.

    ``result.jac`` is the projected gradient: a component pushing a parameter past its bound, where
    the search rightly stopped, is zero.

    L-BFGS-B can stop with ABNORMAL_TERMINATION_IN_LNSRCH short of the optimum when its curvature
    memory misleads the line search on a flat ridge. Restarting from where it stopped, with the
    memory cleared, is the standard remedy, and costs nothing when it had converged: the search
    restarts (up to a few times) until the largest gradient component is within the tolerance.
    """
    highs = np.full(len(start), bound) if upper is None else np.minimum(upper, bound)
    point = np.clip(start, -bound, highs)
    result = None
    for _ in range(_RESTARTS):
        result = minimize(
            negative_mean,
            point,
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(np.full(len(point), -bound), highs, strict=True)),
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        point = result.x
        result.jac = _projected(result.x, result.jac, -bound, highs)
        if np.max(np.abs(result.jac)) <= gradient_tolerance:
            break
    assert result is not None
    return result


def _projected(point: FloatArray, gradient: FloatArray, low: float, highs: FloatArray) -> FloatArray:
    """The gradient with the components that push against an active bound set to zero."""
    pushing_up = (point >= highs - 1e-9) & (gradient < 0)
    pushing_down = (point <= low + 1e-9) & (gradient > 0)
    return np.where(pushing_up | pushing_down, 0.0, gradient)
