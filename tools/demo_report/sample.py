"""A made-up but plausible ``Facts`` with every section filled: for tests and for working on the look.

``python -m tools.demo_report.sample out/report-sample.html`` renders it.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from tools.demo_report.facts import Facts, ThroughputSample

MONTHS = [f"{2024 + (m // 12)}-{m % 12 + 1:02d}" for m in range(18)]


def _curve(start: float, end: float, wobble: float = 0.0, phase: float = 0.0) -> list[int]:
    n = len(MONTHS)
    return [max(0, round(start + (end - start) * i / (n - 1) + wobble * math.sin(i / 2.0 + phase))) for i in range(n)]


def _samples() -> list[ThroughputSample]:
    samples: list[ThroughputSample] = []
    total = 182_400
    for step in range(41):
        t = step * 3.0
        published = min(total, round(total * t / 75.0))
        done = [min(published, round(total * max(0.0, t - d) / (75.0 + d))) for d in (2.0, 6.0, 14.0, 19.0)]
        lag = {
            "ingest": published - done[0],
            "scoring": done[0] - done[1],
            "campaigns": max(0, round((done[1] - done[2]) * 0.04)),
            "notifier": max(0, round((done[2] - done[3]) * 0.02)),
        }
        samples.append(
            {
                "t_s": t,
                "published": published,
                "ingest_done": done[0],
                "scoring_done": done[1],
                "campaigns_done": round(done[2] * 9_120 / 182_400),
                "notifier_done": round(done[3] * 4_830 / 182_400),
                "lag": lag,
            }
        )
    return samples


def sample_facts() -> Facts:
    """Every section filled with numbers that hang together well enough to look at."""
    return {
        "run": {
            "data": "synthetic",
            "seed": 42,
            "members": 5_000,
            "months": len(MONTHS),
            "history_start": "2024-01-01",
            "history_end": "2025-06-30",
            "records_published": 182_400,
            "elapsed_s": 123.4,
            "started_at": "2025-07-01T09:30:00+00:00",
        },
        "tiers_over_time": {
            "months": MONTHS,
            "engagement": {
                "active": _curve(120, 1_150, 40),
                "participant": _curve(300, 1_400, 60, 1.0),
                "lurker": _curve(500, 1_300, 50, 2.0),
                "silent": _curve(900, 1_150, 30, 3.0),
            },
            "value": {
                "vip": _curve(20, 260, 10),
                "high": _curve(150, 900, 25, 1.0),
                "mid": _curve(500, 1_900, 40, 2.0),
                "low": _curve(1_150, 1_940, 50, 3.0),
            },
        },
        "lifecycle_over_time": {
            "months": MONTHS,
            "states": {
                "new": _curve(900, 250, 60),
                "active": _curve(700, 2_600, 80, 1.0),
                "at_risk": _curve(50, 700, 70, 2.0),
                "dormant": _curve(0, 1_050, 20, 3.0),
                "reactivated": _curve(0, 400, 30, 4.0),
            },
        },
        "lifecycle_flows": [
            {"from": "new", "to": "active", "count": 3_100},
            {"from": "active", "to": "at_risk", "count": 2_050},
            {"from": "at_risk", "to": "active", "count": 820},
            {"from": "at_risk", "to": "dormant", "count": 1_150},
            {"from": "dormant", "to": "reactivated", "count": 610},
            {"from": "reactivated", "to": "active", "count": 380},
            {"from": "reactivated", "to": "at_risk", "count": 160},
            {"from": "new", "to": "at_risk", "count": 540},
        ],
        "churn_warnings_over_time": {
            "months": MONTHS,
            "by_reason": {
                "overdue_vs_own_cadence": _curve(10, 95, 15),
                "p_alive_below_threshold": _curve(0, 70, 10, 1.0),
                "engagement_drop": _curve(5, 40, 8, 2.0),
                "left_community": _curve(2, 18, 4, 3.0),
                "unfollowed": _curve(1, 9, 3, 4.0),
                "complaint": _curve(1, 6, 2, 5.0),
            },
        },
        "habit_recovery": {
            "active": {"active": 310, "participant": 74, "lurker": 9},
            "participant": {"active": 22, "participant": 1_240, "lurker": 301, "silent": 40},
            "lurker": {"participant": 96, "lurker": 2_410, "silent": 388},
            "silent": {"lurker": 15, "silent": 3_902},
        },
        "churn_recovery": {
            "true_churners": 1_150,
            "warned": 2_590,
            "warned_and_churned": 1_020,
            "precision": 1_020 / 2_590,
            "recall": 1_020 / 1_150,
            "median_lead_days": 47.0,
            "definition": "No purchase in the last 180 days of the history, after at least one before.",
        },
        "members_now": {
            "engagement": {"active": 1_150, "participant": 1_400, "lurker": 1_300, "silent": 1_150},
            "value": {"vip": 260, "high": 900, "mid": 1_900, "low": 1_940},
            "lifecycle": {"new": 250, "active": 2_600, "at_risk": 700, "dormant": 1_050, "reactivated": 400},
        },
        "churn_reasons_now": {
            "overdue_vs_own_cadence": 320,
            "p_alive_below_threshold": 210,
            "engagement_drop": 110,
            "left_community": 35,
            "unfollowed": 15,
            "complaint": 10,
        },
        "offers_by_kind": [
            {
                "campaign": "win-back",
                "kind": "coupon",
                "decided": 2_400,
                "issued": 1_650,
                "holdout": 240,
                "suppressed": 470,
                "queued": 40,
            },
            {
                "campaign": "vip-thanks",
                "kind": "points",
                "decided": 820,
                "issued": 700,
                "holdout": 82,
                "suppressed": 38,
                "queued": 0,
            },
            {
                "campaign": "community-welcome",
                "kind": "message",
                "decided": 3_050,
                "issued": 2_480,
                "holdout": 305,
                "suppressed": 215,
                "queued": 50,
            },
        ],
        "suppressions": [
            {"stage": "campaigns", "reason": "cooldown", "count": 320},
            {"stage": "campaigns", "reason": "frequency_cap", "count": 210},
            {"stage": "campaigns", "reason": "no_consent", "count": 150},
            {"stage": "campaigns", "reason": "budget_daily_exhausted", "count": 43},
            {"stage": "notifier", "reason": "quiet_hours_expired", "count": 61},
            {"stage": "notifier", "reason": "unsubscribed", "count": 38},
            {"stage": "notifier", "reason": "invalid_address", "count": 22},
        ],
        "funnel": [
            {
                "campaign": "win-back",
                "decided": 2_400,
                "issued": 1_650,
                "sent": 1_600,
                "delivered": 1_540,
                "converted": 310,
            },
            {"campaign": "vip-thanks", "decided": 820, "issued": 700, "sent": 690, "delivered": 684, "converted": 205},
            {
                "campaign": "community-welcome",
                "decided": 3_050,
                "issued": 2_480,
                "sent": 2_430,
                "delivered": 2_300,
                "converted": 290,
            },
        ],
        "uplift": [
            {
                "campaign": "win-back",
                "offered": 1_650,
                "offered_converted": 310,
                "holdout": 240,
                "holdout_converted": 29,
                "rate_offered": 0.1879,
                "rate_holdout": 0.1208,
                "uplift": 0.0671,
                "ci_low": 0.0195,
                "ci_high": 0.1049,
            },
            {
                "campaign": "vip-thanks",
                "offered": 700,
                "offered_converted": 205,
                "holdout": 82,
                "holdout_converted": 22,
                "rate_offered": 0.2929,
                "rate_holdout": 0.2683,
                "uplift": 0.0246,
                "ci_low": -0.0804,
                "ci_high": 0.1152,
            },
            {
                "campaign": "community-welcome",
                "offered": 2_480,
                "offered_converted": 290,
                "holdout": 305,
                "holdout_converted": 41,
                "rate_offered": 0.1169,
                "rate_holdout": 0.1344,
                "uplift": -0.0175,
                "ci_low": -0.0629,
                "ci_high": 0.0183,
            },
        ],
        "delivery": [
            {"channel": "email", "status": "delivered", "count": 2_900},
            {"channel": "email", "status": "failed", "count": 48},
            {"channel": "email", "status": "suppressed", "count": 61},
            {"channel": "email", "status": "deferred", "count": 12},
            {"channel": "sms", "status": "delivered", "count": 1_210},
            {"channel": "sms", "status": "sent", "count": 140},
            {"channel": "sms", "status": "failed", "count": 35},
            {"channel": "sms", "status": "suppressed", "count": 38},
            {"channel": "push", "status": "delivered", "count": 414},
            {"channel": "push", "status": "failed", "count": 8},
            {"channel": "push", "status": "suppressed", "count": 22},
        ],
        "dlq": [
            {"reason": "schema_invalid", "count": 120, "planted": 120},
            {"reason": "unknown_member", "count": 45, "planted": 45},
            {"reason": "bad_timestamp", "count": 30, "planted": 30},
            {"reason": "poison_payload", "count": 3, "planted": None},
        ],
        "accounting": {
            "offers_issued": 4_830,
            "notifier_sent": 4_664,
            "notifier_failed": 91,
            "notifier_suppressed": 61,
            "notifier_pending": 14,
            "balanced": True,
            "dlq_seen": 198,
            "dlq_planted": 195,
            "dlq_balanced": False,
            "duplicates_planted": 900,
            "duplicates_dropped": 900,
        },
        "throughput": {
            "samples": _samples(),
            "per_service": {
                "ingest": {"records": 182_400, "seconds": 80.1, "per_s": 2_277.2},
                "scoring": {"records": 182_400, "seconds": 84.9, "per_s": 2_148.4},
                "campaigns": {"records": 9_120, "seconds": 92.3, "per_s": 98.8},
                "notifier": {"records": 4_830, "seconds": 97.6, "per_s": 49.5},
            },
        },
        "bgnbd": {
            "fitted": {"r": 0.2429, "alpha": 4.4139, "a": 0.7929, "b": 2.4261, "log_likelihood": -9582.43},
            "published": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4},
            "members": 2_357,
            "units": "weeks",
        },
        "endpoints": [
            {"name": "Grafana: engagement", "url": "http://127.0.0.1:3000/d/engagement"},
            {"name": "ingest /metrics", "url": "http://127.0.0.1:8001/metrics"},
            {"name": "campaigns API docs", "url": "http://127.0.0.1:8003/docs"},
        ],
    }


def main(argv: list[str]) -> int:
    from tools.demo_report import write_report

    out = Path(argv[0] if argv else "out/report-sample.html")
    write_report(sample_facts(), out)
    print(f"sample report: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
