"""campaigns' Prometheus metrics: decisions by outcome and reason, per campaign (a bounded set)."""

from prometheus_client import Counter, Gauge

DECISIONS = Counter(
    "memberpulse_campaigns_decisions_total",
    "Decisions recorded, by campaign, outcome (issued, holdout, suppressed, queued) and reason",
    ["campaign", "outcome", "reason"],
)
OUTSIDE_AUDIENCE = Counter(
    "memberpulse_campaigns_outside_audience_total", "Triggers that fired for members outside the audience", ["campaign"]
)
CONVERSIONS = Counter(
    "memberpulse_campaigns_conversions_total",
    "Offers (arm=offer) and holdout decisions (arm=holdout) converted by a purchase",
    ["campaign", "arm"],
)
CONVERSIONS_WITHDRAWN = Counter(
    "memberpulse_campaigns_conversions_withdrawn_total",
    "Conversions taken back because the converting purchase was refunded in full, by arm as above",
    ["campaign", "arm"],
)
WATERMARK = Gauge("memberpulse_campaigns_watermark_timestamp_seconds", "Event-time watermark timers fire at")
ACTIVE_CAMPAIGNS = Gauge("memberpulse_campaigns_active", "Campaigns active in this process")
