"""The scoring bench's view of the stack (bench.service_bench.stack): what its phases leave behind, to undo it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import asyncpg

from bench.scoring.config import SPEC
from bench.service_bench.stack import ServiceBench, ServiceSpec
from services.scoring.adapters.community_repository import ACTIVITY_COLUMNS


@dataclass(kw_only=True)
class Bench(ServiceBench):
    spec: ClassVar[ServiceSpec] = SPEC
    # Member id prefixes of the rows phases 1 and 3 created, deleted at the end unless --keep.
    prefixes: list[str] = field(default_factory=list)
    communities: set[str] = field(default_factory=set)
    activity_before: dict[str, tuple[int, ...]] = field(default_factory=dict)


async def snapshot_activity(bench: Bench) -> None:
    conn = await asyncpg.connect(bench.dsn)
    try:
        columns = ", ".join(ACTIVITY_COLUMNS)
        rows = await conn.fetch(f"SELECT community_id, {columns} FROM community_activity")  # noqa: S608
    finally:
        await conn.close()
    bench.activity_before = {row["community_id"]: tuple(row[c] for c in ACTIVITY_COLUMNS) for row in rows}
