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
) -> OptimizeResult:
    """L-BFGS-B over log-parameters in [-bound, bound], with the analytic gradient.

    L-BFGS-B can stop with ABNORMAL_TERMINATION_IN_LNSRCH short of the optimum when its curvature
    memory misleads the line search on a flat ridge. Restarting from where it stopped, with the
    memory cleared, is the standard remedy, and costs nothing when it had converged: the search
    restarts (up to a few times) until the largest gradient component is within the tolerance.
    """
    point = np.clip(start, -bound, bound)
    result = None
    for _ in range(_RESTARTS):
        result = minimize(
            negative_mean,
            point,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-bound, bound)] * len(point),
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        point = result.x
        if np.max(np.abs(result.jac)) <= gradient_tolerance:
            break
    assert result is not None
    return result
