"""The bench's view of the stack: campaigns' group and tables, a few Postgres reads, and leaving the others be."""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.campaigns.config import GROUP, OUT_DIR, TABLES
from bench.kafka_ops import KafkaProbe, Ranges
from shared.kafka.admin import commit_group_offsets
from shared.settings import Settings


class BenchAborted(Exception):
    """The benchmark cannot run on this stack as it is (another campaigns consumer is running)."""


@dataclass
class Bench:
    settings: Settings
    probe: KafkaProbe
    inputs: list[TopicPartition]  # campaigns' five input topics
    offers: list[TopicPartition]  # offer.issued.v1
    args: argparse.Namespace
    stamp: str
    warnings: list[str] = field(default_factory=list)
    # What the run published, for leaving scoring and notifier as they were: topic partition → [start, end).
    published: Ranges = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def log_dir(self) -> Path:
        return OUT_DIR / f"logs-campaigns-{self.stamp}"

    @property
    def dsn(self) -> str:
        return self.settings.pg.dsn_for("campaigns")

    def runs(self, phase: str) -> bool:
        return phase not in self.args.skip

    def note(self, ranges: Ranges) -> None:
        for tp, (start, end) in ranges.items():
            if end > start:
                first, _ = self.published.get(tp, (start, end))
                self.published[tp] = (min(first, start), end)


def campaigns_pids() -> list[int]:
    """Pids of running ``python -m services.campaigns`` processes on this host."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if b"services.campaigns" in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids


async def preflight(bench: Bench) -> None:
    if pids := campaigns_pids():
        raise BenchAborted(f"a campaigns process is running (pid {pids}); it shares group {GROUP!r}. Stop it.")
    if members := await bench.probe.group_members(GROUP):
        raise BenchAborted(f"consumer group {GROUP!r} has {members} active member(s) elsewhere. Stop them.")


async def reset(bench: Bench) -> dict[TopicPartition, int]:
    """campaigns' tables emptied (as its integration tests do) and its group moved to the end of its inputs."""
    await execute(bench.dsn, f"TRUNCATE {', '.join(TABLES)}")
    skipped = await bench.probe.group_lag(GROUP, bench.inputs)
    ends = await bench.probe.end_offsets(bench.inputs)
    await commit_group_offsets(bench.bootstrap, GROUP, ends)
    if skipped:
        bench.warnings.append(f"moved group {GROUP!r} past {skipped:,} input records it had not read")
    return ends


async def execute(dsn: str, query: str, *args: Any) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(query, *args)
    finally:
        await conn.close()


async def fetchval(dsn: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def unpublished(dsn: str) -> int:
    return int(await fetchval(dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL"))


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
