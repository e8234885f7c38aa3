"""The Kafka ceilings: ``bench.baseline``'s bare aiokafka loops over one set of records.

Ingest-shaped raw records (``tools.upstream.realistic_mix``, as ingest's bench produces) are put on
a scratch topic, then read twice by fresh groups: once only consuming and committing per batch
(the ceiling of scoring and campaigns, whose outputs are rare), once also copying every record to
``bench.scratch.v1`` with the services' producer (the ceiling of ingest, which publishes one event
per record).
"""

from __future__ import annotations

from bench.baseline import BaselineResult, run_baseline
from bench.harness.model import Ceiling
from bench.ingest_throughput import new_run_id, progress
from bench.kafka_ops import produce_kafka_records, produce_timed, ranges_between
from shared.contracts import KafkaRecord
from shared.contracts.raw import RawUpstreamRecord
from shared.contracts.topics import TopicSpec
from shared.kafka.admin import ensure_topics
from shared.settings import Settings
from tools.kafka_probe import KafkaProbe
from tools.upstream import realistic_mix

SOURCE = TopicSpec(
    "bench.ceiling.v1", RawUpstreamRecord, "none", "Benchmark ceiling: raw records to read", retention_ms=3_600_000
)
CONSUME = "kafka_consume"
CONSUME_PRODUCE = "kafka_consume_produce"


def _ceiling(key: str, label: str, result: BaselineResult) -> Ceiling:
    return Ceiling(key, label, result.rate, "records/s", result.records, result.seconds)


async def kafka_ceilings(settings: Settings, records: int) -> list[Ceiling]:
    bootstrap = settings.kafka.bootstrap_servers
    await ensure_topics(bootstrap, [SOURCE])
    run = new_run_id()
    progress(f"ceilings: producing {records:,} raw records to {SOURCE.name}…")
    batch = [
        KafkaRecord(SOURCE.name, None, r.body, tuple(r.headers)) for r in realistic_mix(run, records, records // 10)
    ]
    async with KafkaProbe(bootstrap) as probe:
        partitions = await probe.partitions([SOURCE.name])
        before = await probe.end_offsets(partitions)
        await produce_timed(bootstrap, lambda producer: produce_kafka_records(producer, batch))
        ranges = ranges_between(before, await probe.end_offsets(partitions))
    consumed = await run_baseline(settings.kafka, f"{run}-consume", ranges, copy=False)
    progress(f"ceilings: bare consume loop {consumed.rate:,.0f} records/s")
    copied = await run_baseline(settings.kafka, f"{run}-copy", ranges, copy=True)
    progress(f"ceilings: bare consume → produce loop {copied.rate:,.0f} records/s")
    return [
        _ceiling(CONSUME, "Kafka: bare aiokafka consume loop (commit per batch)", consumed),
        _ceiling(CONSUME_PRODUCE, "Kafka: bare consume → produce loop (idempotent, acks=all)", copied),
    ]
