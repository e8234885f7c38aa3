"""Reading back the tail of a topic: which outbox rows already reached Kafka.

The relay publishes, then marks. If it dies in between, the rows of its last batch sit
unmarked although they are on the topic. Its successor reads the last ``depth`` records of
every partition those rows target and marks the ones it finds, so nothing is published twice.
Rows are recognised by their ``mp-outbox`` header (``<service>:<row id>``); the last batch
sent is always in the tail because only the relay leader writes these topics.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka.admin import describe_partitions
from shared.settings import KafkaSettings

OUTBOX_HEADER = "mp-outbox"


def outbox_header(service: str, row_id: int) -> tuple[str, bytes]:
    return OUTBOX_HEADER, f"{service}:{row_id}".encode()


async def outbox_ids_in_tails(settings: KafkaSettings, topics: Iterable[str], service: str, depth: int) -> set[int]:
    """Outbox row ids of ``service`` found in the last ``depth`` records of each partition of ``topics``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        client_id=f"{settings.client_id_prefix}-{service}-readback",
    )
    await consumer.start()
    found: set[int] = set()
    prefix = f"{service}:".encode()
    try:
        counts = await describe_partitions(settings.bootstrap_servers, topics)
        partitions = [TopicPartition(topic, p) for topic, count in sorted(counts.items()) for p in range(count)]
        if not partitions:
            return found
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > starts[tp]}
        for tp in pending:
            consumer.seek(tp, max(starts[tp], ends[tp] - depth))
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000, max_records=depth)
            for records in batches.values():
                for record in records:
                    for name, value in record.headers or ():
                        if name == OUTBOX_HEADER and value.startswith(prefix):
                            found.add(int(value[len(prefix) :]))
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return found
