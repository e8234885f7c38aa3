"""Dead letters of every service by reason (read back from the ``*.dlq.v1`` topics), and ingest's counters."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts.topics import CAMPAIGNS_DLQ, INGEST_DLQ, NOTIFIER_DLQ, SCORING_DLQ
from tools.kafka_probe import Offsets, records_between

DLQ_TOPICS = {
    spec.name: service
    for service, spec in (
        ("ingest", INGEST_DLQ),
        ("scoring", SCORING_DLQ),
        ("campaigns", CAMPAIGNS_DLQ),
        ("notifier", NOTIFIER_DLQ),
    )
}


async def dead_letters(bootstrap_servers: str, since: Offsets) -> Counter[tuple[str, str]]:
    """Dead letters published after ``since`` (the DLQs' end offsets when the run began), by (service, reason)."""
    return Counter(
        (DLQ_TOPICS[record.topic], json.loads(record.value)["error_code"])
        for record in await records_between(bootstrap_servers, since)
    )


def counters(metrics_url: str) -> dict[str, Any]:
    """ingest's counters since it started (the demo starts it): duplicates, members, unknown references."""
    text = httpx.get(metrics_url, timeout=10.0).text
    values: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            if sample.name == "memberpulse_consumer_records_total":
                values[f"records_{labels.get('outcome')}"] += int(sample.value)
            elif sample.name == "memberpulse_ingest_unknown_references_total":
                values[f"unknown_{labels.get('kind')}"] += int(sample.value)
            elif sample.name == "memberpulse_ingest_ignored_records_total":
                values["ignored"] += int(sample.value)
            elif sample.name in ("memberpulse_ingest_members_created_total", "memberpulse_ingest_members_merged_total"):
                values[sample.name.removeprefix("memberpulse_ingest_").removesuffix("_total")] += int(sample.value)
    return dict(values)
