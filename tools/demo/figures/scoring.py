"""Scoring's figures: members by tier and state now and at each month end, flows, churn warnings, the fit."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from tools.demo.figures.months import label, month_ends

# Each member's last published state before a moment, for every moment of the axis.
_STATES_AT = """
SELECT m.i, t.engagement_tier, t.to_lifecycle, COALESCE(t.value_tier, 'unrated') AS value_tier, count(*) AS n
FROM unnest($1::timestamptz[]) WITH ORDINALITY AS m(moment, i)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (tr.member_id) tr.engagement_tier, tr.to_lifecycle, tr.value_tier
    FROM transitions tr
    JOIN members mb ON mb.member_id = tr.member_id AND mb.merged_into IS NULL
    WHERE tr.at < m.moment
    ORDER BY tr.member_id, tr.state_version DESC
) t
GROUP BY 1, 2, 3, 4
"""
_WARNINGS = """
SELECT at, reasons[1] AS reason FROM transitions
WHERE to_lifecycle = 'at_risk' AND from_lifecycle IS DISTINCT FROM 'at_risk'
"""
_FLOWS = """
SELECT COALESCE(from_lifecycle, '(first seen)') AS source, to_lifecycle AS target, count(*) AS n
FROM transitions WHERE from_lifecycle IS DISTINCT FROM to_lifecycle
GROUP BY 1, 2 ORDER BY n DESC
"""
_NOW = """
SELECT engagement_tier, lifecycle, COALESCE(value_tier, 'unrated') AS value_tier, count(*) AS n
FROM members WHERE merged_into IS NULL GROUP BY 1, 2, 3
"""
_REASONS_NOW = """
SELECT reason, count(*) AS n FROM members, unnest(reasons) AS reason
WHERE merged_into IS NULL AND lifecycle = 'at_risk' GROUP BY 1 ORDER BY n DESC
"""
_LATEST_FIT = "SELECT version, data_until, members, bgnbd FROM model_params ORDER BY version DESC LIMIT 1"
_FIRST_WARNINGS = """
SELECT member_id, array_agg(at ORDER BY at) AS warned_at FROM transitions
WHERE to_lifecycle = 'at_risk' AND from_lifecycle IS DISTINCT FROM 'at_risk'
GROUP BY member_id
"""


async def over_time(conn: Any, start: datetime, end: datetime) -> dict[str, Any]:
    ends = month_ends(start, end)
    months = [label(moment) for moment in ends]
    engagement: dict[str, list[int]] = defaultdict(lambda: [0] * len(ends))
    value: dict[str, list[int]] = defaultdict(lambda: [0] * len(ends))
    lifecycle: dict[str, list[int]] = defaultdict(lambda: [0] * len(ends))
    for row in await conn.fetch(_STATES_AT, ends):
        i = row["i"] - 1
        engagement[row["engagement_tier"]][i] += row["n"]
        value[row["value_tier"]][i] += row["n"]
        lifecycle[row["to_lifecycle"]][i] += row["n"]
    warnings: dict[str, list[int]] = defaultdict(lambda: [0] * len(ends))
    for row in await conn.fetch(_WARNINGS):
        i = next((k for k, moment in enumerate(ends) if row["at"] < moment), len(ends) - 1)
        warnings[row["reason"] or "unspecified"][i] += 1
    return {
        "tiers_over_time": {"months": months, "engagement": dict(engagement), "value": dict(value)},
        "lifecycle_over_time": {"months": months, "states": dict(lifecycle)},
        "churn_warnings_over_time": {"months": months, "by_reason": dict(sorted(warnings.items()))},
    }


async def now(conn: Any) -> dict[str, Any]:
    engagement: dict[str, int] = defaultdict(int)
    value: dict[str, int] = defaultdict(int)
    lifecycle: dict[str, int] = defaultdict(int)
    for row in await conn.fetch(_NOW):
        engagement[row["engagement_tier"]] += row["n"]
        value[row["value_tier"]] += row["n"]
        lifecycle[row["lifecycle"]] += row["n"]
    flows = [{"from": r["source"], "to": r["target"], "count": r["n"]} for r in await conn.fetch(_FLOWS)]
    return {
        "members_now": {"engagement": dict(engagement), "value": dict(value), "lifecycle": dict(lifecycle)},
        "churn_reasons_now": {r["reason"]: r["n"] for r in await conn.fetch(_REASONS_NOW)},
        "lifecycle_flows": flows,
    }


async def latest_fit(conn: Any) -> dict[str, Any] | None:
    """The newest BG/NBD parameter set (time in days), or None before the first fit."""
    row = await conn.fetchrow(_LATEST_FIT)
    if row is None:
        return None
    bgnbd = row["bgnbd"]
    # Scoring stores the parameters as a JSON document inside jsonb: decode until it is one.
    while isinstance(bgnbd, str):
        bgnbd = json.loads(bgnbd)
    return {"version": row["version"], "data_until": row["data_until"], "members": row["members"], "bgnbd": bgnbd}


async def tiers_by_member(conn: Any) -> dict[str, str]:
    """Each member's engagement tier at the end."""
    rows = await conn.fetch("SELECT member_id, engagement_tier FROM members WHERE merged_into IS NULL")
    return {r["member_id"]: r["engagement_tier"] for r in rows}


async def warnings_by_member(conn: Any) -> dict[str, list[datetime]]:
    """Every moment each member entered at_risk."""
    return {r["member_id"]: list(r["warned_at"]) for r in await conn.fetch(_FIRST_WARNINGS)}
