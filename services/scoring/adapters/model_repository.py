"""Versioned model parameters and RFM cut points, and the purchase histories a fit reads."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np

from services.scoring.domain.bgnbd import BgNbdParams
from services.scoring.domain.gamma_gamma import GammaGammaParams
from services.scoring.domain.policy import ScoringModel
from services.scoring.domain.value_tier import RfmCuts


async def latest_model(conn: Any) -> ScoringModel:
    row = await conn.fetchrow("SELECT version, bgnbd, spend FROM model_params ORDER BY version DESC LIMIT 1")
    if row is None:
        return ScoringModel()
    return ScoringModel(
        version=row["version"],
        bgnbd=BgNbdParams(**json.loads(row["bgnbd"])),
        spend=GammaGammaParams(**json.loads(row["spend"])),
    )


async def store_model(
    conn: Any, bgnbd: BgNbdParams, spend: GammaGammaParams, data_until: datetime, members: int
) -> int:
    version: int = await conn.fetchval(
        """INSERT INTO model_params (data_until, members, bgnbd, spend) VALUES ($1, $2, $3::jsonb, $4::jsonb)
           RETURNING version""",
        data_until,
        members,
        json.dumps(asdict(bgnbd)),
        json.dumps(asdict(spend)),
    )
    return version


async def purchase_histories(conn: Any, until: datetime) -> dict[str, np.ndarray]:
    """Per member who bought by ``until``: x (repeat purchases), t_x and T in days, mean sale value."""
    rows = await conn.fetch(
        """SELECT count(*) - 1 AS x,
                  extract(epoch FROM max(at) - min(at)) / 86400.0 AS t_x,
                  extract(epoch FROM $1 - min(at)) / 86400.0 AS big_t,
                  avg(amount_minor)::float8 AS mean_spend
           FROM sales JOIN members USING (member_id)
           WHERE at <= $1 AND members.merged_into IS NULL GROUP BY member_id""",
        until,
    )
    return {
        "x": np.array([r["x"] for r in rows], dtype=np.float64),
        "t_x": np.array([float(r["t_x"]) for r in rows], dtype=np.float64),
        "T": np.array([float(r["big_t"]) for r in rows], dtype=np.float64),
        "mean_spend": np.array([r["mean_spend"] for r in rows], dtype=np.float64),
    }


async def latest_cuts(conn: Any) -> RfmCuts | None:
    row = await conn.fetchrow(
        "SELECT version, recency_days, frequency, monetary_minor FROM rfm_cuts ORDER BY version DESC LIMIT 1"
    )
    if row is None:
        return None
    return RfmCuts(
        version=row["version"],
        recency_days=tuple(row["recency_days"]),
        frequency=tuple(row["frequency"]),
        monetary_minor=tuple(row["monetary_minor"]),
    )


async def compute_cuts(conn: Any, as_of: datetime) -> RfmCuts | None:
    """Quintile cut points of recency, frequency and net spend over all buyers, stored as a new version."""
    row = await conn.fetchrow(
        """SELECT count(*) AS buyers,
             percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (
               ORDER BY extract(epoch FROM $1 - last_purchase_at) / 86400.0) AS recency_days,
             percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY sales) AS frequency,
             percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY sales_minor - refunds_minor)
               AS monetary_minor
           FROM members WHERE sales > 0 AND merged_into IS NULL""",
        as_of,
    )
    if row is None or not row["buyers"]:
        return None
    version: int = await conn.fetchval(
        """INSERT INTO rfm_cuts (as_of, buyers, recency_days, frequency, monetary_minor)
           VALUES ($1, $2, $3, $4, $5) RETURNING version""",
        as_of,
        row["buyers"],
        [float(v) for v in row["recency_days"]],
        [float(v) for v in row["frequency"]],
        [float(v) for v in row["monetary_minor"]],
    )
    return RfmCuts(
        version=version,
        recency_days=tuple(float(v) for v in row["recency_days"]),
        frequency=tuple(float(v) for v in row["frequency"]),
        monetary_minor=tuple(float(v) for v in row["monetary_minor"]),
    )
