"""After phases 1 and 3: their rows deleted, community counters restored, campaigns kept off the bench's members."""

from __future__ import annotations

import asyncpg

from bench.ingest_throughput import progress
from bench.scoring.config import DOWNSTREAM_GROUP
from bench.scoring.stack import Bench
from services.scoring.adapters.community_repository import ACTIVITY_COLUMNS
from shared.contracts.topics import MEMBER_STATE
from shared.kafka.admin import commit_group_offsets


async def keep_downstream_out(bench: Bench) -> None:
    """Move campaigns' group past the bench's state events, so no offer is made to a bench member.

    Campaigns consumes member.state.v1; left behind, the next `make demo` or campaigns start
    would greet tens of thousands of bench members and keep the notifier busy for minutes.
    """
    if await bench.probe.group_members(DOWNSTREAM_GROUP):
        bench.warnings.append(f"group {DOWNSTREAM_GROUP!r} is running: it will act on the bench's state events")
        return
    state = await bench.probe.partitions([MEMBER_STATE.name])
    await commit_group_offsets(bench.bootstrap, DOWNSTREAM_GROUP, await bench.probe.end_offsets(state))


async def cleanup(bench: Bench) -> None:
    if not bench.prefixes:
        return
    await keep_downstream_out(bench)
    progress(f"deleting the rows of runs {', '.join(p[2:-1] for p in bench.prefixes)}…")
    conn = await asyncpg.connect(bench.dsn)
    try:
        async with conn.transaction():
            for prefix in bench.prefixes:
                for table in ("transitions", "sales", "community_members", "members"):
                    await conn.execute(f"DELETE FROM {table} WHERE starts_with(member_id, $1)", prefix)  # noqa: S608
                await conn.execute("DELETE FROM deferred_events WHERE strpos(payload::text, $1) > 0", prefix)
                key = prefix.encode()
                await conn.execute("DELETE FROM outbox WHERE substring(key FROM 1 FOR $1) = $2", len(key), key)
            # Counters are aggregates over everyone: put back what they were before this run.
            for community in sorted(bench.communities):
                before = bench.activity_before.get(community)
                if before is None:
                    await conn.execute("DELETE FROM community_activity WHERE community_id = $1", community)
                else:
                    sets = ", ".join(f"{c} = ${n}" for n, c in enumerate(ACTIVITY_COLUMNS, start=2))
                    await conn.execute(
                        f"UPDATE community_activity SET {sets} WHERE community_id = $1",  # noqa: S608
                        community,
                        *before,
                    )
    finally:
        await conn.close()
