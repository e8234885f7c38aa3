"""The report's colours: one meaning per colour, the same in every chart."""

from __future__ import annotations

# Engagement: a blue ramp, the active tier darkest (it is drawn on top of the stack).
ENGAGEMENT = {"active": "#1d4ed8", "participant": "#60a5fa", "lurker": "#bfdbfe", "silent": "#e5e7eb"}
ENGAGEMENT_ORDER = ("active", "participant", "lurker", "silent")

# Value: a violet ramp, VIP darkest.
VALUE = {"vip": "#6d28d9", "high": "#a78bfa", "mid": "#ddd6fe", "low": "#ede9fe"}
VALUE_ORDER = ("vip", "high", "mid", "low")

LIFECYCLE = {
    "new": "#38bdf8",
    "active": "#16a34a",
    "reactivated": "#8b5cf6",
    "at_risk": "#f59e0b",
    "dormant": "#9ca3af",
}
LIFECYCLE_ORDER = ("new", "active", "reactivated", "at_risk", "dormant")

CHURN_REASONS = {
    "overdue_vs_own_cadence": "#ea580c",
    "p_alive_below_threshold": "#f59e0b",
    "engagement_drop": "#facc15",
    "left_community": "#0ea5e9",
    "unfollowed": "#6366f1",
    "complaint": "#dc2626",
}
CHURN_REASON_ORDER = tuple(CHURN_REASONS)

DELIVERY = {
    "delivered": "#16a34a",
    "sent": "#86efac",
    "deferred": "#fbbf24",
    "pending": "#fde68a",
    "suppressed": "#9ca3af",
    "failed": "#dc2626",
}
DELIVERY_ORDER = tuple(DELIVERY)

OUTCOMES = {"issued": "#2563eb", "holdout": "#a5b4fc", "suppressed": "#9ca3af", "queued": "#fbbf24"}
OUTCOME_ORDER = tuple(OUTCOMES)

STAGES = {"campaigns": "#2563eb", "notifier": "#0d9488"}

FUNNEL = ("#1e3a8a", "#1d4ed8", "#3b82f6", "#60a5fa", "#16a34a")  # decided … delivered in blues, converted green

SERVICES = {
    "published": "#111827",
    "ingest": "#2563eb",
    "scoring": "#7c3aed",
    "campaigns": "#db2777",
    "notifier": "#0d9488",
}
SERVICE_ORDER = ("ingest", "scoring", "campaigns", "notifier")

POSITIVE = "#16a34a"
NEGATIVE = "#dc2626"
NEUTRAL = "#6b7280"
