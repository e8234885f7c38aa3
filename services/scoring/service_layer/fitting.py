"""Fitting the BG/NBD and spend models on the stored purchase histories, as a new parameter version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from services.scoring.adapters import model_repository
from services.scoring.domain import bgnbd, gamma_gamma
from services.scoring.domain.bgnbd import BgNbdParams
from services.scoring.domain.gamma_gamma import GammaGammaParams


@dataclass(frozen=True)
class FitReport:
    version: int
    members: int
    repeat_buyers: int
    bgnbd: BgNbdParams
    spend: GammaGammaParams
    read_s: float
    fit_s: float


class NotEnoughData(Exception):
    """Too few buyers to fit anything meaningful."""


async def fit_models(conn: Any, until: datetime, *, min_buyers: int = 20) -> FitReport:
    """Fit both models on every member's history up to ``until`` and store them as one version."""
    started = time.perf_counter()
    data = await model_repository.purchase_histories(conn, until)
    read_s = time.perf_counter() - started
    members = len(data["x"])
    repeat = data["x"] > 0
    if members < min_buyers or int(repeat.sum()) < min_buyers:
        raise NotEnoughData(
            f"{members} buyers ({int(repeat.sum())} with a repeat purchase) by {until:%Y-%m-%d}; "
            f"at least {min_buyers} of each are needed"
        )
    started = time.perf_counter()
    purchases = bgnbd.fit(data["x"], data["t_x"], data["T"])
    spend = gamma_gamma.fit(data["x"][repeat], np.maximum(data["mean_spend"][repeat], 0.01))
    fit_s = time.perf_counter() - started
    version = await model_repository.store_model(conn, purchases, spend, until, members)
    return FitReport(version, members, int(repeat.sum()), purchases, spend, read_s, fit_s)
