"""Scoring benchmark: fitting BG/NBD to a member base of a million, and scoring P(alive) over it.

``python -m bench.scoring_fit [--members 1000000] [--seed 7]``. Nothing is asserted; the figures are
printed as a Markdown table and written to ``bench/results/scoring_fit.json``.

Method
------
1. Simulate a BG/NBD population in days with known parameters (CDNOW's, restated in days): per
   member λ ~ Gamma(r, rate α) and p ~ Beta(a, b); the first purchase falls uniformly within a
   two-year calibration window, and repeat purchases follow at exponential intervals until the
   window ends or the member drops out (probability p after each repeat purchase). The simulation
   is vectorised over the members still buying, one purchase number at a time, capped at
   ``MAX_PURCHASES`` rounds. t_x and T are then rounded to whole days, as the service stores dates.
2. Time ``bgnbd.compress`` (distinct histories and their counts) and ``bgnbd.fit`` on its output
   separately, and compare the fitted parameters with the true ones (rounding to days and sampling
   make them differ a little).
3. Time ``bgnbd.p_alive`` over every member (not compressed), best of ``P_ALIVE_REPEATS`` runs.

Target (reported, not asserted): the fit of 1,000,000 members takes at most 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy
from numpy.typing import NDArray

from services.scoring.domain import bgnbd
from services.scoring.domain.bgnbd import BgNbdParams

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "scoring_fit.json"
# CDNOW's published estimates (Fader, Hardie & Lee 2005), α restated from weeks to days.
TRUE_PARAMS = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
CALIBRATION_DAYS = 730.0
MAX_PURCHASES = 10_000
P_ALIVE_REPEATS = 5
FIT_TARGET_S = 30.0


@dataclass(frozen=True)
class Population:
    x: NDArray[np.float64]
    t_x: NDArray[np.float64]  # whole days
    T: NDArray[np.float64]  # whole days
    still_buying_at_cap: int  # members whose purchases were cut short by MAX_PURCHASES


@dataclass(frozen=True)
class Result:
    started_at: str
    command: str
    machine: dict[str, str | int]
    members: int
    seed: int
    calibration_days: float
    members_with_repeat_purchases: int
    still_buying_at_cap: int
    unique_triples: int
    simulate_s: float
    compress_s: float
    fit_s: float
    fit_target_s: float
    true_params: dict[str, float]
    fitted_params: dict[str, float]
    fitted_log_likelihood: float
    p_alive_s: float
    p_alive_per_s: float


def simulate(params: BgNbdParams, members: int, window_days: float, rng: np.random.Generator) -> Population:
    """Histories of ``members`` drawn from BG/NBD, observed until the end of the window."""
    rate = rng.gamma(params.r, 1.0 / params.alpha, members)
    dropout = rng.beta(params.a, params.b, members)
    observed_for = window_days - rng.uniform(0.0, window_days, members)
    repeats = np.zeros(members)
    last_purchase = np.zeros(members)
    buying = np.arange(members)  # alive and still inside the window, as of their last purchase
    for _ in range(MAX_PURCHASES):
        if buying.size == 0:
            break
        with np.errstate(divide="ignore"):  # a rate that underflowed to 0 never buys again
            next_purchase = last_purchase[buying] + rng.standard_exponential(buying.size) / rate[buying]
        in_window = next_purchase <= observed_for[buying]
        buyers = buying[in_window]
        repeats[buyers] += 1
        last_purchase[buyers] = next_purchase[in_window]
        buying = buyers[rng.random(buyers.size) >= dropout[buyers]]
    # Rounding is monotone, so t_x ≤ T survives it.
    return Population(repeats, np.round(last_purchase), np.round(observed_for), int(buying.size))


def run(members: int, seed: int, command: str) -> Result:
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    population = simulate(TRUE_PARAMS, members, CALIBRATION_DAYS, rng)
    simulate_s = time.perf_counter() - began

    began = time.perf_counter()
    histories = bgnbd.compress(population.x, population.t_x, population.T)
    compress_s = time.perf_counter() - began
    began = time.perf_counter()
    fitted = bgnbd.fit(histories.x, histories.t_x, histories.T, weights=histories.weights)
    fit_s = time.perf_counter() - began

    timings = []
    for _ in range(P_ALIVE_REPEATS):
        began = time.perf_counter()
        bgnbd.p_alive(fitted, population.x, population.t_x, population.T)
        timings.append(time.perf_counter() - began)
    p_alive_s = min(timings)

    return Result(
        started_at=started_at,
        command=command,
        machine={
            "cpu_count": os.cpu_count() or 0,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        members=members,
        seed=seed,
        calibration_days=CALIBRATION_DAYS,
        members_with_repeat_purchases=int(np.count_nonzero(population.x)),
        still_buying_at_cap=population.still_buying_at_cap,
        unique_triples=len(histories.x),
        simulate_s=simulate_s,
        compress_s=compress_s,
        fit_s=fit_s,
        fit_target_s=FIT_TARGET_S,
        true_params=_params(TRUE_PARAMS),
        fitted_params=_params(fitted),
        fitted_log_likelihood=float(fitted.log_likelihood or 0.0),
        p_alive_s=p_alive_s,
        p_alive_per_s=members / p_alive_s,
    )


def render(result: Result) -> str:
    target = "met" if result.fit_s <= result.fit_target_s else "NOT met"
    m = result.machine
    lines = [
        f"## Scoring: BG/NBD fit, {result.started_at}",
        "",
        f"`{result.command}` on {m['cpu_count']} cores, {m['platform']}, Python {m['python']},"
        f" numpy {m['numpy']}, scipy {m['scipy']}",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| members simulated (seed {result.seed}, {result.calibration_days:.0f}-day window) | {result.members:,} |",
        f"| with a repeat purchase | {result.members_with_repeat_purchases:,} |",
        f"| still buying when the simulation cap stopped them | {result.still_buying_at_cap:,} |",
        f"| unique (x, t_x, T) triples | {result.unique_triples:,} |",
        f"| simulate | {result.simulate_s:.2f} s |",
        f"| compress | {result.compress_s:.2f} s |",
        f"| fit (on the triples) | {result.fit_s:.2f} s (target ≤ {result.fit_target_s:.0f} s: {target}) |",
        f"| fitted log-likelihood (days) | {result.fitted_log_likelihood:,.1f} |",
        f"| p_alive over every member | {result.p_alive_s * 1000:.0f} ms, {result.p_alive_per_s:,.0f} evaluations/s |",
        "",
        "| parameter | true | fitted | relative error |",
        "|---|---:|---:|---:|",
    ]
    for name, true in result.true_params.items():
        fitted = result.fitted_params[name]
        lines.append(f"| {name} | {true:.4f} | {fitted:.4f} | {(fitted - true) / true:+.2%} |")
    return "\n".join(lines)


def write_json(result: Result, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False) + "\n")
    return path


def _params(params: BgNbdParams) -> dict[str, float]:
    return {"r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000, help="members to simulate (1,000,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the simulation (7)")
    args = parser.parse_args(argv)
    if args.members <= 0:
        parser.error("--members must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "bench.scoring_fit", *argv])
    result = run(args.members, args.seed, command)
    print(render(result))
    print(f"\nresults: {write_json(result, RESULTS_PATH)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
