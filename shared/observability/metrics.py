"""Plumbing metrics shared by every service (prometheus-client, default registry).

Labels stay bounded: service, topic, partition (at most the partition count), outcome and
error codes from a fixed vocabulary. Never a member id, SKU or free text.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMER_RECORDS = Counter(
    "memberpulse_consumer_records_total",
    "Records consumed, by outcome: applied, duplicate (inbox hit) or rejected (sent to the DLQ)",
    ["service", "topic", "outcome"],
)
DLQ_RECORDS = Counter(
    "memberpulse_dlq_records_total", "Records sent to the dead-letter topic, by reason", ["service", "reason"]
)
BATCH_SIZE = Histogram(
    "memberpulse_consumer_batch_records",
    "Records per consumed batch",
    ["service"],
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500),
)
BATCH_DURATION = Histogram(
    "memberpulse_batch_duration_seconds",
    "Time to apply one batch: decode, DB transaction, offset commit",
    ["service"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PROCESSING_DELAY = Histogram(
    "memberpulse_processing_delay_seconds",
    "Delay from the record's Kafka timestamp or its event time until it was applied",
    ["service", "basis"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
CONSUMER_LAG = Gauge(
    "memberpulse_consumer_lag_records",
    "Log end offset minus committed offset, per topic-partition",
    ["service", "topic", "partition"],
)
RECORDS_WAITING = Gauge(
    "memberpulse_consumer_records_waiting",
    "Records read but waiting for event time: a partition still behind may deliver older ones (alignment)",
    ["service"],
)
REBALANCES = Counter(
    "memberpulse_consumer_rebalances_total", "Partition assignment changes, by kind", ["service", "kind"]
)
RETRIES = Counter("memberpulse_consumer_retries_total", "Batch attempts retried after a transient error", ["service"])
OUTBOX_BACKLOG = Gauge("memberpulse_outbox_backlog_rows", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "memberpulse_outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_PUBLISHED = Counter("memberpulse_outbox_published_total", "Outbox rows published to Kafka", ["service", "topic"])
