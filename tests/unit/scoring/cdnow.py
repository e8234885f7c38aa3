"""The CDNOW sample (Fader, Hardie & Lee 2005) that the published BG/NBD and Gamma-Gamma estimates come from.

lifetimes ships it as CSVs (times in weeks, spend in dollars); ``tools.cdnow.datasets_dir`` finds them
(the demo replays the raw transactions from the same folder).
2,357 customers; 946 of them made at least one repeat purchase.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from tools.cdnow import datasets_dir


@dataclass(frozen=True)
class Cdnow:
    """One row per customer: x repeat purchases, the last at t_x weeks, observed T weeks, mean repeat spend."""

    x: NDArray[np.float64]
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    mean_spend: NDArray[np.float64]  # zbar: 0 when x = 0


@cache
def load() -> Cdnow:
    """Both CSVs, checked to describe the same customers in the same order."""
    summary = _read("cdnow_customers_summary.csv")  # ID,frequency,recency,T
    spend = _read("cdnow_customers_summary_with_transactions.csv")  # ID,x,t_x,T,zbar
    same = (
        np.array_equal(summary["ID"], spend["ID"])
        and np.array_equal(summary["frequency"], spend["x"])
        and np.array_equal(summary["recency"], spend["t_x"])
        and np.array_equal(summary["T"], spend["T"])
    )
    if not same:
        raise RuntimeError("the two CDNOW CSVs disagree on the customers' histories")
    return Cdnow(summary["frequency"], summary["recency"], summary["T"], spend["zbar"])


def _read(name: str) -> dict[str, NDArray[np.float64]]:
    with (datasets_dir() / name).open(newline="") as csv_file:
        rows = list(csv.DictReader(csv_file))
    return {column: np.array([float(row[column]) for row in rows]) for column in rows[0]}
