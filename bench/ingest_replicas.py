"""How ingest scales with replicas on this machine: drain a pre-loaded backlog with N processes.

``uv run python -m bench.ingest_replicas REPLICAS EVENTS``: produces EVENTS records of the
realistic mix to the raw topics, starts REPLICAS ingest processes in the "ingest" group and
reports the drain rate (spawn → group lag 0, start-up included). Run it with no other ingest
process up; compare 1 against 2 replicas in the same session.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.admin import describe_partitions
from shared.settings import KafkaSettings
from tools import upstream
from tools.services import spawn_service, stop_services

RAW_TOPICS = ("raw.chat.v1", "raw.purchase.v1")
PORT = 12081


async def preload(bootstrap: str, events: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, enable_idempotence=True)
    await producer.start()
    try:
        for record in upstream.realistic_mix(uuid.uuid4().hex[:8], events, 10_000):
            await producer.send(record.topic, record.body, headers=record.headers)
        await producer.flush()
    finally:
        await producer.stop()


async def drain_rate(replicas: int, events: int) -> float:
    bootstrap = KafkaSettings().bootstrap_servers
    await preload(bootstrap, events)
    counts = await describe_partitions(bootstrap, RAW_TOPICS)
    partitions = [TopicPartition(topic, p) for topic, count in counts.items() for p in range(count)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    ends = await consumer.end_offsets(partitions)
    started = time.monotonic()
    logs = Path(tempfile.mkdtemp(prefix="ingest-replicas-"))
    services = [spawn_service("ingest", logs, None, PORT + n) for n in range(replicas)]
    try:
        while True:
            committed = await admin.list_consumer_group_offsets("ingest")
            lag = sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions)
            if lag <= 0:
                return events / (time.monotonic() - started)
            await asyncio.sleep(0.5)
    finally:
        stop_services(services)
        await consumer.stop()
        await admin.close()


def main() -> None:
    replicas, events = (int(arg) for arg in sys.argv[1:3])
    rate = asyncio.run(drain_rate(replicas, events))
    print(f"replicas={replicas} events={events}: drained at {rate:,.0f} events/s (spawn → lag 0, start-up included)")


if __name__ == "__main__":
    main()
