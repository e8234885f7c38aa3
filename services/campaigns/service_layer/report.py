"""A campaign's figures from its decisions: what was decided, delivered and converted, and the uplift.

Every decision row is one member and one trigger occurrence, so arm sizes count decisions: the
treated arm is what was issued, the control arm what was held out (decided exactly as an issued
offer, then not sent). Conversions and their revenue are set on the rows by attribution, for
both arms alike, which is what makes the comparison fair; refunds of converting purchases are
taken off the revenue, and a conversion refunded in full is withdrawn. Queued and suppressed
decisions are in neither arm: they never reached the point where sending or holding out was decided.
"""

from __future__ import annotations

import json
from typing import Any

from services.campaigns.domain.uplift import Arm, uplift

CONFIDENCE = 0.95

# One row per campaign: defined campaigns with no decisions yet report zeros, and decisions of a
# campaign no longer defined are still reported. ``$1`` NULL means every campaign.
_REPORT = """
WITH ids AS (
    SELECT campaign_id FROM campaigns WHERE $1::text IS NULL OR campaign_id = $1
    UNION
    SELECT DISTINCT campaign_id FROM decisions WHERE $1::text IS NULL OR campaign_id = $1
)
SELECT ids.campaign_id, c.version, c.status,
       count(d.decision_key) AS decisions,
       count(*) FILTER (WHERE d.outcome = 'issued') AS issued,
       count(*) FILTER (WHERE d.outcome = 'holdout') AS holdout,
       count(*) FILTER (WHERE d.outcome = 'queued') AS queued,
       count(*) FILTER (WHERE d.outcome = 'suppressed') AS suppressed,
       count(*) FILTER (WHERE d.last_status IN ('sent', 'delivered')) AS sent,
       count(*) FILTER (WHERE d.delivered_at IS NOT NULL) AS delivered,
       count(*) FILTER (WHERE d.outcome = 'issued' AND d.converted_at IS NOT NULL) AS treated_converted,
       count(*) FILTER (WHERE d.outcome = 'holdout' AND d.converted_at IS NOT NULL) AS holdout_converted,
       COALESCE(sum(d.revenue_minor - d.refunded_minor)
                FILTER (WHERE d.outcome = 'issued' AND d.converted_at IS NOT NULL), 0)::bigint
           AS treated_revenue_minor,
       COALESCE(sum(d.revenue_minor - d.refunded_minor)
                FILTER (WHERE d.outcome = 'holdout' AND d.converted_at IS NOT NULL), 0)::bigint
           AS holdout_revenue_minor,
       COALESCE(sum(d.refunded_minor) FILTER (WHERE d.converted_at IS NOT NULL), 0)::bigint AS refunded_minor,
       COALESCE(sum(d.coupon_value_minor) FILTER (WHERE d.outcome = 'issued'), 0)::bigint AS coupon_issued_minor,
       min(d.decided_at) AS first_decided_at,
       max(d.decided_at) AS last_decided_at,
       (SELECT jsonb_object_agg(reason, n)::text
          FROM (SELECT COALESCE(s.reason, 'unknown') AS reason, count(*) AS n
                  FROM decisions s
                 WHERE s.campaign_id = ids.campaign_id AND s.outcome = 'suppressed'
                 GROUP BY 1) AS reasons) AS suppressed_by_reason
FROM ids
LEFT JOIN campaigns c USING (campaign_id)
LEFT JOIN decisions d USING (campaign_id)
GROUP BY ids.campaign_id, c.version, c.status
ORDER BY ids.campaign_id
"""


def _report(row: Any) -> dict[str, Any]:
    treated = Arm(row["issued"], row["treated_converted"], row["treated_revenue_minor"])
    control = Arm(row["holdout"], row["holdout_converted"], row["holdout_revenue_minor"])
    measured = uplift(treated, control, CONFIDENCE)
    first, last = row["first_decided_at"], row["last_decided_at"]
    return {
        "campaign_id": row["campaign_id"],
        "version": row["version"],  # None: decisions of a campaign no longer defined
        "status": row["status"],
        "decisions": row["decisions"],
        "issued": row["issued"],
        "holdout": row["holdout"],
        "queued": row["queued"],
        "suppressed": row["suppressed"],
        "suppressed_by_reason": dict(sorted(json.loads(row["suppressed_by_reason"] or "{}").items())),
        "sent": row["sent"],
        "delivered": row["delivered"],
        "converted": {"treated": treated.converted, "holdout": control.converted},
        "conversion_rate": {"treated": treated.rate, "holdout": control.rate},
        # Net of refunds: a partly refunded conversion keeps what was not refunded; one refunded in
        # full is withdrawn and counts in neither figure.
        "revenue_minor": {"treated": treated.revenue_minor, "holdout": control.revenue_minor},
        "refunded_minor": row["refunded_minor"],
        "coupon_issued_minor": row["coupon_issued_minor"],
        "uplift": {**measured.as_dict(), "confidence": CONFIDENCE},
        "incremental_revenue_minor": measured.incremental_revenue_minor,
        "first_decided_at": first.isoformat() if first is not None else None,
        "last_decided_at": last.isoformat() if last is not None else None,
    }


async def campaign_report(conn: Any, campaign_id: str) -> dict[str, Any] | None:
    """The campaign's figures; None when it is neither defined nor has any decision."""
    row = await conn.fetchrow(_REPORT, campaign_id)
    return _report(row) if row is not None else None


async def all_reports(conn: Any) -> list[dict[str, Any]]:
    """Every campaign's figures, by id."""
    return [_report(row) for row in await conn.fetch(_REPORT, None)]
