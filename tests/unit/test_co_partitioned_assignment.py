"""Scoring's replicas each get partition p of every member topic, so a member's events meet in one place."""

from __future__ import annotations

from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata

from services.scoring.entrypoints.topology import CONSUMES


class _Cluster:
    def __init__(self, partitions: int) -> None:
        self._partitions = partitions

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self._partitions))


def test_every_replica_gets_the_same_partition_numbers_of_every_consumed_topic() -> None:
    topics = [spec.name for spec in CONSUMES]
    assert len({spec.partitions for spec in CONSUMES}) == 1, "co-partitioning needs equal partition counts"
    members = {
        f"scoring-{n}": ConsumerProtocolMemberMetadata(RangePartitionAssignor.version, topics, b"") for n in range(3)
    }
    assignment = RangePartitionAssignor.assign(_Cluster(CONSUMES[0].partitions), members)
    for member in members:
        by_topic = {topic: set(parts) for topic, parts in assignment[member].assignment}
        assert set(by_topic) == set(topics)
        assert len({frozenset(parts) for parts in by_topic.values()}) == 1, by_topic
