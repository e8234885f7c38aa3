"""The campaigns bench's view of the stack (bench.service_bench.stack): its tables, and leaving the others be."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.campaigns.config import SPEC
from bench.kafka_ops import Ranges
from bench.service_bench.stack import ServiceBench, ServiceSpec, empty_service_tables, move_group_to_end
from shared.kafka.admin import commit_group_offsets


@dataclass(kw_only=True)
class Bench(ServiceBench):
    spec: ClassVar[ServiceSpec] = SPEC
    offers: list[TopicPartition]  # offer.issued.v1
    # What the run published, for leaving scoring and notifier as they were: topic partition → [start, end).
    published: Ranges = field(default_factory=dict)

    def note(self, ranges: Ranges) -> None:
        for tp, (start, end) in ranges.items():
            if end > start:
                first, _ = self.published.get(tp, (start, end))
                self.published[tp] = (min(first, start), end)


async def reset(bench: Bench) -> dict[TopicPartition, int]:
    """campaigns' tables emptied (as its integration tests do) and its group moved to the end of its inputs."""
    await empty_service_tables(bench.dsn, "campaigns")
    return await move_group_to_end(bench)


# Who else reads what the bench published: scoring reads sales, notifier reads offers.
OTHER_READERS = {"member.purchase.v1": "scoring", "offer.issued.v1": "notifier"}


async def leave_others_be(bench: Bench) -> None:
    """Move scoring's and notifier's groups past the bench's records, where they had read up to them.

    Left behind, the next scoring or notifier start (a demo) would score tens of thousands of bench
    sales or deliver the bench's offers. A group that is running, or had not read up to where the
    bench began, is left alone (with a warning): moving it would skip records that are not the bench's.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bench.bootstrap)
    await admin.start()
    try:
        for topic, group in OTHER_READERS.items():
            ranges = {tp: r for tp, r in bench.published.items() if tp.topic == topic}
            if not ranges:
                continue
            if await bench.probe.group_members(group):
                bench.warnings.append(f"group {group!r} is running: it will read the bench's {topic} records")
                continue
            committed = await admin.list_consumer_group_offsets(group, partitions=list(ranges))
            moves, left = {}, 0
            for tp, (start, end) in ranges.items():
                meta = committed.get(tp)
                if meta is not None and meta.offset == start:
                    moves[tp] = end
                elif meta is None or meta.offset < start:
                    left += end - start
            if moves:
                await commit_group_offsets(bench.bootstrap, group, moves)
            if left:
                bench.warnings.append(
                    f"group {group!r} had not read up to where the bench began on some {topic} partitions:"
                    f" left there, it will still read {left:,} bench records"
                )
    finally:
        await admin.close()
