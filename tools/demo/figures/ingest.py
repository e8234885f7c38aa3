"""Dead letters of every service by reason (read back from the ``*.dlq.v1`` topics), and ingest's counters."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from shared.contracts.topics import CAMPAIGNS_DLQ, INGEST_DLQ, NOTIFIER_DLQ, SCORING_DLQ
from tools.kafka_probe import Offsets

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
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = list(since)
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, since[tp])
        reasons: Counter[tuple[str, str]] = Counter()
        remaining = {tp for tp in partitions if ends[tp] > since[tp]}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for record in records:
                    if record.offset < ends[tp]:
                        reasons[(DLQ_TOPICS[tp.topic], json.loads(record.value)["error_code"])] += 1
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return reasons
    finally:
        await consumer.stop()


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
