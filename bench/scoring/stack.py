"""The bench's view of the stack: its state, scoring's consumer group, and a few Postgres reads."""

from __future__ import annotations

import argparse
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import TopicPartition

from bench.kafka_ops import (
    KafkaProbe,
)
from bench.scoring.config import GROUP, RESULTS_DIR
from services.scoring.adapters.community_repository import ACTIVITY_COLUMNS
from shared.kafka.admin import commit_group_offsets
from shared.settings import Settings


class BenchAborted(Exception):
    """The benchmark cannot run on this stack as it is (another scoring running)."""


@dataclass
class Bench:
    settings: Settings
    probe: KafkaProbe
    inputs: list[TopicPartition]
    args: argparse.Namespace
    stamp: str
    warnings: list[str] = field(default_factory=list)
    # Member id prefixes of the rows phases 1 and 3 created, deleted at the end unless --keep.
    prefixes: list[str] = field(default_factory=list)
    communities: set[str] = field(default_factory=set)
    activity_before: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def log_dir(self) -> Path:
        return RESULTS_DIR / f"logs-scoring-{self.stamp}"

    @property
    def dsn(self) -> str:
        return self.settings.pg.dsn_for("scoring")

    def runs(self, phase: str) -> bool:
        return phase not in self.args.skip


def scoring_pids() -> list[int]:
    """Pids of running ``python -m services.scoring`` processes on this host."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if b"services.scoring" in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
    return pids


async def preflight(bench: Bench) -> None:
    if pids := scoring_pids():
        raise BenchAborted(f"a scoring process is running (pid {pids}); it shares group {GROUP!r}. Stop it.")
    if members := await bench.probe.group_members(GROUP):
        raise BenchAborted(f"consumer group {GROUP!r} has {members} active member(s) elsewhere. Stop them.")


async def move_group_to(bench: Bench, offsets: dict[TopicPartition, int], group: str = GROUP) -> None:
    """Commit ``offsets`` for a consumer group (scoring's by default), as the integration tests' reset does."""
    await commit_group_offsets(bench.bootstrap, group, offsets)


async def move_group_to_end(bench: Bench) -> dict[TopicPartition, int]:
    """Move scoring's group to the current end of its inputs; warn about what it had not read."""
    skipped = await bench.probe.group_lag(GROUP, bench.inputs)
    ends = await bench.probe.end_offsets(bench.inputs)
    await move_group_to(bench, ends)
    if skipped:
        bench.warnings.append(f"moved group {GROUP!r} past {skipped:,} input records it had not read")
    return ends


async def fetchval(dsn: str, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def snapshot_activity(bench: Bench) -> None:
    conn = await asyncpg.connect(bench.dsn)
    try:
        columns = ", ".join(ACTIVITY_COLUMNS)
        rows = await conn.fetch(f"SELECT community_id, {columns} FROM community_activity")  # noqa: S608
    finally:
        await conn.close()
    bench.activity_before = {row["community_id"]: tuple(row[c] for c in ACTIVITY_COLUMNS) for row in rows}


async def unpublished(dsn: str) -> int:
    return int(await fetchval(dsn, "SELECT count(*) FROM outbox WHERE published_at IS NULL"))
