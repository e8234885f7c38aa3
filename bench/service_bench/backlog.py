"""The backlog phase's set-up: records published before the service starts, so it meets a full backlog."""

from __future__ import annotations

from collections.abc import Sequence

from bench.kafka_ops import Ranges, produce_kafka_records, produce_timed, ranges_between
from bench.service_bench.stack import ServiceBench
from shared.contracts import KafkaRecord
from tools.kafka_probe import Offsets


async def publish_backlog(bench: ServiceBench, records: Sequence[KafkaRecord], before: Offsets) -> tuple[Ranges, float]:
    """The offset ranges the records occupy on the service's inputs (from ``before`` on), and records/s published."""
    _, seconds = await produce_timed(bench.bootstrap, lambda producer: produce_kafka_records(producer, records))
    ranges = ranges_between(before, await bench.probe.end_offsets(bench.inputs))
    landed = sum(end - start for start, end in ranges.values())
    if landed != len(records):
        bench.warnings.append(f"{landed - len(records)} records from elsewhere landed on the inputs during pre-load")
    return ranges, len(records) / seconds
