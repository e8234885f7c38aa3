"""ingest's own Prometheus metrics, beside the shared consumer and outbox ones."""

from __future__ import annotations

from prometheus_client import Counter

IGNORED = Counter(
    "memberpulse_ingest_ignored_records_total",
    "Well-formed records that carry no member signal (menu clicks, staff messages), by source and reason",
    ["source", "reason"],
)
UNKNOWN_REFERENCES = Counter(
    "memberpulse_ingest_unknown_references_total",
    "Purchases naming a store or SKU the registries do not know (accepted and flagged)",
    ["kind"],
)
MEMBERS_CREATED = Counter("memberpulse_ingest_members_created_total", "Members first seen by ingest")
MEMBERS_MERGED = Counter("memberpulse_ingest_members_merged_total", "Members folded into another (member.merged.v1)")
HTTP_REQUESTS = Counter(
    "memberpulse_ingest_http_requests_total", "Ingest API requests by route and outcome", ["route", "outcome"]
)
HTTP_EVENTS = Counter(
    "memberpulse_ingest_http_events_total",
    "Events posted to the ingest API by source and outcome",
    ["source", "outcome"],
)
