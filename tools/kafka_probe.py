"""Partitions, end offsets and consumer-group lag on a running broker: for the demo and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.kafka.admin import describe_partitions

Offsets = dict[TopicPartition, int]


class KafkaProbe:
    """One admin client and one group-less consumer, reused for every offset and lag query of a run."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def close(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def __aenter__(self) -> KafkaProbe:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        counts = await describe_partitions(self.bootstrap, topics)
        missing = sorted(set(topics) - set(counts))
        if missing:
            raise RuntimeError(f"topics missing (run `make up`): {missing}")
        return [TopicPartition(topic, p) for topic in topics for p in range(counts[topic])]

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> Offsets:
        return dict(await self._consumer.end_offsets(list(partitions)))

    async def group_lag(self, group: str, partitions: Sequence[TopicPartition]) -> int:
        """Records of ``partitions`` the group has not committed yet (uncommitted partitions count from the start)."""
        return sum((await self.lag_by_partition(group, partitions)).values())

    async def lag_by_partition(self, group: str, partitions: Sequence[TopicPartition]) -> Offsets:
        positions = await self.positions(group, partitions)
        ends = await self.end_offsets(partitions)
        return {tp: max(0, ends[tp] - positions[tp]) for tp in partitions}

    async def positions(self, group: str, partitions: Sequence[TopicPartition]) -> Offsets:
        """Where the group stands on each partition: its committed offset, or the log start without one."""
        committed = await self._admin.list_consumer_group_offsets(group, partitions=list(partitions))
        starts = await self._consumer.beginning_offsets(list(partitions))
        found = {}
        for tp in partitions:
            meta = committed.get(tp)
            found[tp] = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
        return found

    async def group_members(self, group: str) -> int:
        (response,) = await self._admin.describe_consumer_groups([group])
        # DescribeGroupsResponse groups: (error_code, group, state, protocol_type, protocol, members)
        return sum(len(described[5]) for described in response.groups)


async def records_between(bootstrap: str, since: Offsets) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record published after ``since`` (offsets noted at the start of a run) up to the end offsets now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=8 << 20
    )
    await consumer.start()
    try:
        partitions = list(since)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > since[tp]}
        consumer.assign(sorted(remaining, key=lambda tp: (tp.topic, tp.partition)))
        for tp in remaining:
            consumer.seek(tp, since[tp])
        found: list[ConsumerRecord[bytes, bytes]] = []
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                found += [record for record in records if record.offset < ends[tp]]
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()
