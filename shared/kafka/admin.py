"""Topic administration from the registry: create what is missing, report what differs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError

from shared.contracts.topics import TopicSpec


async def ensure_topics(bootstrap_servers: str, specs: Iterable[TopicSpec], timeout_s: float = 30.0) -> list[str]:
    """Create every topic of ``specs`` that does not exist yet, align the others' configs; return the names created."""
    specs = list(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=int(timeout_s * 1000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        created = []
        for spec in missing:
            try:
                await admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, 1, topic_configs=spec.config)],
                    timeout_ms=int(timeout_s * 1000),
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:  # another bootstrap won the race
                pass
        if created:
            await _wait_for_metadata(admin, {spec.name for spec in missing}, timeout_s)
        present = [spec for spec in specs if spec.name in existing]
        if present:
            # A registry change (retention, message size) reaches topics created by an older release.
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, s.name, s.config) for s in present])
        return created
    finally:
        await admin.close()


async def _wait_for_metadata(admin: AIOKafkaAdminClient, names: set[str], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if names <= set(await admin.list_topics()):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"topics not visible after {timeout_s}s: {sorted(names)}")


async def describe_partitions(bootstrap_servers: str, names: Iterable[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(names))
        return {t["topic"]: len(t["partitions"]) for t in described if not t.get("error_code")}
    finally:
        await admin.close()


async def commit_group_offsets(bootstrap_servers: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit ``offsets`` for ``group``, which must have no active members (tests, benches, operators)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def move_group_to_end(bootstrap_servers: str, group: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """Move ``group`` past everything now in ``topics``; returns the end offsets it was moved to."""
    counts = await describe_partitions(bootstrap_servers, topics)
    partitions = [TopicPartition(topic, p) for topic, n in counts.items() for p in range(n)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
    await commit_group_offsets(bootstrap_servers, group, ends)
    return ends
