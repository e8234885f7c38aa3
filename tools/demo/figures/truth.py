"""How well scoring's churn warnings recovered the churn the generator planted.

Only card members count: they are the ones ingest can name (``card_no`` → member id). A warning
*anticipates* a churn when the member enters at_risk between ``BEFORE`` before and ``AFTER`` after
their planted churn date (the last purchase before going quiet: the silence only shows after a while).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

BEFORE = timedelta(days=30)
AFTER = timedelta(days=120)
DEFINITION = (
    "a card member the generator made stop buying; counted when the churn happened at least 120 days "
    "before the end of history, and anticipated by a warning (entering at_risk) from 30 days before to "
    "120 days after it"
)


def churn_recovery(
    churn_dates: Mapping[str, datetime | None], warnings: Mapping[str, Sequence[datetime]], history_end: datetime
) -> dict[str, Any]:
    """``churn_dates``: member id → planted churn date (None: never churned), for every card member."""

    def anticipating(member: str) -> datetime | None:
        churned = churn_dates.get(member)
        if churned is None:
            return None
        return next((w for w in warnings.get(member, ()) if churned - BEFORE <= w <= churned + AFTER), None)

    observable = [m for m, churned in churn_dates.items() if churned is not None and churned <= history_end - AFTER]
    warned = [m for m in churn_dates if warnings.get(m)]
    hits = [m for m in warned if anticipating(m) is not None]
    recalled = [m for m in observable if anticipating(m) is not None]
    leads = []
    for member in hits:
        churned, warned_at = churn_dates[member], anticipating(member)
        if churned is not None and warned_at is not None:
            leads.append((churned - warned_at).total_seconds() / 86400)
    return {
        "true_churners": len(observable),
        "warned": len(warned),
        "warned_and_churned": len(hits),
        "precision": len(hits) / len(warned) if warned else None,
        "recall": len(recalled) / len(observable) if observable else None,
        "median_lead_days": round(statistics.median(leads), 1) if leads else None,
        "definition": DEFINITION,
    }


def habit_recovery(habits: Mapping[str, str], tiers: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Planted chat habit → the engagement tiers scoring ended with, for members who never churned.

    ``habits``: member id → planted habit (active, participant, lurker, silent; members outside
    every community are left out). ``tiers``: member id → engagement tier at the end.
    """
    matrix: dict[str, dict[str, int]] = {}
    for member, habit in habits.items():
        tier = tiers.get(member)
        if tier is not None:
            row = matrix.setdefault(habit, {})
            row[tier] = row.get(tier, 0) + 1
    return {habit: dict(sorted(row.items())) for habit, row in sorted(matrix.items())}
