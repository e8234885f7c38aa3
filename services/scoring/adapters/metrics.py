"""scoring's own Prometheus metrics: transitions, warnings and the sweeper's progress."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TRANSITIONS = Counter(
    "memberpulse_scoring_transitions_total",
    "Published lifecycle transitions, by from and to state and the new state's first reason code"
    " (tier-only changes have from == to)",
    ["from_state", "to_state", "reason"],
)
CHURN_WARNINGS = Counter(
    "memberpulse_scoring_churn_warnings_total", "Members entering at_risk, counted once per reason", ["reason"]
)
SWEPT = Counter("memberpulse_scoring_swept_members_total", "Members reviewed by the sweeper")
PARKED = Counter(
    "memberpulse_scoring_reviews_parked_total",
    "Members whose due review failed; parked (no review scheduled) until their next event",
)
SWEEP_DURATION = Histogram(
    "memberpulse_scoring_sweep_batch_duration_seconds",
    "Time to claim, evaluate and commit one sweep batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
WATERMARK = Gauge("memberpulse_scoring_watermark_timestamp_seconds", "Event-time watermark the sweeper runs to")
WATERMARK_DELAY = Gauge(
    "memberpulse_scoring_watermark_delay_seconds", "Wall clock minus the watermark: how far behind event time runs"
)
MODEL_VERSION = Gauge("memberpulse_scoring_model_version", "Version of the BG/NBD + spend parameter set in use")
MEMBERS = Gauge(
    "memberpulse_scoring_members",
    "Members (not merged away) by engagement tier, value tier and lifecycle, refreshed from scoring's tables",
    ["engagement_tier", "value_tier", "lifecycle"],
)
COMMUNITIES = Gauge(
    "memberpulse_scoring_communities",
    "Communities by unfollow-rate band (unfollows / new follows): a bounded view of every community's rate",
    ["unfollow_rate_band"],
)
LATE_EVENTS = Counter(
    "memberpulse_scoring_late_events_total",
    "Events older than their member's clock when applied: folded in and evaluated at the clock, so"
    " the member's state depends on the order they arrived in",
)
