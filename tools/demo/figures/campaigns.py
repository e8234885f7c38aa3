"""Campaigns' figures: decisions by campaign, suppressions by reason, the funnel and uplift per campaign.

The per-campaign figures and the uplift interval come from campaigns' own report
(``python -m services.campaigns report``), so the demo shows what the service itself reports.
"""

from __future__ import annotations

from typing import Any

from services.campaigns.service_layer.report import all_reports

_KINDS = "SELECT campaign_id, definition->'trigger'->>'kind' AS kind FROM campaigns"
_SUPPRESSED = """
SELECT COALESCE(reason, 'unknown') AS reason, count(*) AS n FROM decisions
WHERE outcome = 'suppressed' GROUP BY 1 ORDER BY n DESC
"""
_ISSUED = "SELECT count(*) FROM decisions WHERE outcome = 'issued'"


async def figures(conn: Any) -> dict[str, Any]:
    kinds = {r["campaign_id"]: r["kind"] or "?" for r in await conn.fetch(_KINDS)}
    reports = [r for r in await all_reports(conn) if r["decisions"]]
    offers, funnel, uplift = [], [], []
    for r in reports:
        campaign = r["campaign_id"]
        offers.append(
            {
                "campaign": campaign,
                "kind": kinds.get(campaign, "?"),
                "decided": r["decisions"],
                "issued": r["issued"],
                "holdout": r["holdout"],
                "suppressed": r["suppressed"],
                "queued": r["queued"],
            }
        )
        converted = r["converted"]
        funnel.append(
            {
                "campaign": campaign,
                "decided": r["decisions"],
                "issued": r["issued"],
                "sent": r["sent"],
                "delivered": r["delivered"],
                "converted": converted["treated"],
            }
        )
        measured = r["uplift"]
        if r["issued"] and r["holdout"]:
            uplift.append(
                {
                    "campaign": campaign,
                    "offered": r["issued"],
                    "offered_converted": converted["treated"],
                    "holdout": r["holdout"],
                    "holdout_converted": converted["holdout"],
                    "rate_offered": r["conversion_rate"]["treated"],
                    "rate_holdout": r["conversion_rate"]["holdout"],
                    "uplift": measured["absolute"],
                    "ci_low": measured["ci_low"],
                    "ci_high": measured["ci_high"],
                }
            )
    suppressions = [
        {"stage": "campaigns", "reason": r["reason"], "count": r["n"]} for r in await conn.fetch(_SUPPRESSED)
    ]
    return {
        "offers_by_kind": offers,
        "funnel": funnel,
        "uplift": uplift,
        "suppressions": suppressions,
        "offers_issued": int(await conn.fetchval(_ISSUED)),
    }
