"""The notifier's figures: each offer's outcome (its latest row: a fallback channel's row comes after the
failed one), outcomes per channel, suppressions by reason, and what the provider sinks received."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

# A send's status in the ledger, as the accounting groups it.
PENDING = ("queued", "deferred", "retrying", "sending")
SENT = ("sent", "delivered")

_OUTCOMES = """
SELECT channel, status, COALESCE(error_code, '') AS error_code, count(*) AS n FROM (
    SELECT DISTINCT ON (offer_id) offer_id, channel, status, error_code
    FROM sends ORDER BY offer_id, created_at DESC, channel
) latest GROUP BY 1, 2, 3
"""
_ROWS = "SELECT channel, status, count(*) AS n FROM sends GROUP BY 1, 2 ORDER BY 1, 2"


async def figures(conn: Any, sink_url: str) -> dict[str, Any]:
    by_status: Counter[str] = Counter()
    suppressed: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for row in await conn.fetch(_OUTCOMES):
        by_status[row["status"]] += row["n"]
        if row["status"] == "suppressed":
            suppressed[row["error_code"] or "unknown"] += row["n"]
        elif row["status"] == "failed":
            failed[f"{row['channel']}:{row['error_code'] or 'unknown'}"] += row["n"]
    delivery = [{"channel": r["channel"], "status": r["status"], "count": r["n"]} for r in await conn.fetch(_ROWS)]
    async with httpx.AsyncClient(base_url=sink_url, timeout=10.0) as http:
        sinks = (await http.get("/_sink/stats")).json()
    return {
        "delivery": delivery,
        "suppressions": [{"stage": "notifier", "reason": reason, "count": n} for reason, n in suppressed.most_common()],
        "offers": {
            "total": sum(by_status.values()),
            "sent": sum(by_status[s] for s in SENT),
            "failed": by_status["failed"],
            "suppressed": by_status["suppressed"],
            "pending": sum(by_status[s] for s in PENDING),
        },
        "failed_by_reason": dict(failed.most_common()),
        "sinks": sinks,
    }
