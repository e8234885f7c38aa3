"""The bench's view of the stack for one service under test: its spec, its processes, its group, Postgres reads.

Scoring's and campaigns' benches (and ingest's, for the pids) find a running copy of their service,
move its consumer group and count its unpublished outbox rows the same way: it is written once here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
from aiokafka import TopicPartition

from shared.kafka.admin import commit_group_offsets
from shared.postgres.service_schema import empty_tables
from shared.settings import Settings
from tools.kafka_probe import KafkaProbe
from tools.services import service_pids


class BenchAborted(Exception):
    """The benchmark cannot run on this stack as it is (another copy of the service is running)."""


@dataclass(frozen=True)
class ServiceSpec:
    """The service under test: ``services.<name>``, its database role and log file, its group and time limits."""

    name: str
    group: str
    logs: Path  # the run's log folder goes here, as logs-<name>-<stamp>
    port_offset: int  # added to the service's default HTTP port, away from a running stack's
    drain_limit_s: float  # the backlog phase gives up after this long in any case
    ready_timeout_s: float = 90.0
    idle_timeout_s: float = 180.0
    poll_s: float = 0.25
    quiet_s: float = 10.0  # latency: no new output for this long after the last input: the run is over
    stall_s: float = 120.0  # no progress at all for this long: give up and count what is missing as lost

    @property
    def possessive(self) -> str:
        return f"{self.name}'" if self.name.endswith("s") else f"{self.name}'s"


@dataclass(kw_only=True)
class ServiceBench:
    """One run's state; each bench subclasses it with its ``spec`` and what its phases record."""

    spec: ClassVar[ServiceSpec]
    settings: Settings
    probe: KafkaProbe
    inputs: list[TopicPartition]  # the service's input topics
    args: argparse.Namespace
    stamp: str
    warnings: list[str] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka.bootstrap_servers

    @property
    def log_dir(self) -> Path:
        return self.spec.logs / f"logs-{self.spec.name}-{self.stamp}"

    @property
    def dsn(self) -> str:
        return self.settings.pg.dsn_for(self.spec.name)

    def runs(self, phase: str) -> bool:
        return phase not in self.args.skip


async def preflight(bench: ServiceBench) -> None:
    name, group = bench.spec.name, bench.spec.group
    if pids := service_pids(f"services.{name}"):
        raise BenchAborted(f"a {name} process is running (pid {pids}); it shares group {group!r}. Stop it.")
    if members := await bench.probe.group_members(group):
        raise BenchAborted(f"consumer group {group!r} has {members} active member(s) elsewhere. Stop them.")


async def move_group_to_end(bench: ServiceBench) -> dict[TopicPartition, int]:
    """Move the service's group to the current end of its inputs; warn about what it had not read."""
    group = bench.spec.group
    skipped = await bench.probe.group_lag(group, bench.inputs)
    ends = await bench.probe.end_offsets(bench.inputs)
    await commit_group_offsets(bench.bootstrap, group, ends)
    if skipped:
        bench.warnings.append(f"moved group {group!r} past {skipped:,} input records it had not read")
    return ends


async def empty_service_tables(dsn: str, service: str) -> None:
    """The service's tables emptied as its integration tests do it (ledgers and sequences kept)."""
    conn = await asyncpg.connect(dsn)
    try:
        await empty_tables(conn, service)
    finally:
        await conn.close()


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
