"""Phase 4: ``Sweeper.sweep`` timed in-process over synthetic stored members, 1% of them due."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from bench.ingest_throughput import new_run_id, progress
from bench.scoring.config import GROUP, SWEEP_UNTIL
from bench.scoring.figures import SweepFigures
from bench.scoring.stack import Bench
from bench.service_bench.stack import BenchAborted
from services.scoring.adapters.member_repository import COLUMNS
from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.sweeper import Sweeper, SweepSettings
from shared.postgres.pool import create_pool
from tools.services import service_pids


def sweep_rows(prefix: str, count: int, until: datetime) -> Iterator[tuple[Any, ...]]:
    """Synthetic member rows (COLUMNS order): active participants, last heard from 70 days before ``until``."""

    def days(n: float) -> datetime:
        return until - timedelta(days=n)

    template: dict[str, Any] = {
        "member_id": None,
        "first_seen_at": days(400),
        "clock": days(70),
        "lifecycle": "active",
        "lifecycle_since": days(370),
        "reasons": ["repeat_purchase"],
        "engagement_tier": "participant",
        "active_until": None,
        "engaged_until": days(70),
        "contribution_score": 1.5,
        "reaction_score": 0.0,
        "scores_at": days(70),
        "last_interaction_at": days(70),
        "last_left_at": None,
        "last_unfollowed_at": None,
        "last_complaint_at": None,
        "first_purchase_at": days(400),
        "last_purchase_at": days(100),
        "home_store_id": "store-001",
        "sales": 2,
        "refunds": 0,
        "sales_minor": 12_000,
        "refunds_minor": 0,
        "value_tier": None,
        "p_alive": 0.8,
        "expected_purchases": 0.4,
        "clv_minor": 40_000,
        "value_at_risk_minor": 8_000,
        "next_review_at": None,
        "state_version": 3,
        "merged_into": None,
    }
    if set(template) != set(COLUMNS):
        raise RuntimeError(f"members columns changed: {sorted(set(COLUMNS) ^ set(template))}")
    values = [template[c] for c in COLUMNS]
    id_at, due_at = COLUMNS.index("member_id"), COLUMNS.index("next_review_at")
    due, later = until - timedelta(minutes=1), until + timedelta(days=30)
    for n in range(count):
        values[id_at] = f"{prefix}{n:07d}"
        values[due_at] = due if n % 100 == 0 else later
        yield tuple(values)


async def measure_sweep(bench: Bench) -> SweepFigures | None:
    if pids := service_pids("services.scoring"):
        raise BenchAborted(f"a scoring process is running (pid {pids}); its sweeper would take the synthetic members")
    if members := await bench.probe.group_members(GROUP):
        raise BenchAborted(f"consumer group {GROUP!r} has {members} member(s): a scoring process runs elsewhere")
    run, until, count = new_run_id(), SWEEP_UNTIL, bench.args.sweep_members
    prefix = f"m_{run}_sweep_"
    pool = await create_pool(bench.dsn, min_size=1, max_size=2)
    outbox_before: int | None = None
    try:
        async with pool.acquire() as conn:
            others = await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until)
            if others:
                bench.warnings.append(f"sweep not run: {others} stored members are due by {until:%Y-%m-%d} already")
                return None
            outbox_before = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox"))
            progress(f"phase 4: COPY {count:,} synthetic members (run {run}) into scoring.members…")
            began = time.perf_counter()
            await conn.copy_records_to_table("members", records=sweep_rows(prefix, count, until), columns=COLUMNS)
            insert_s = time.perf_counter() - began
            began = time.perf_counter()
            await conn.execute("ANALYZE members")
            analyze_s = time.perf_counter() - began
            due = int(await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until))
        progress(f"phase 4: inserted in {insert_s:.1f} s, analyzed in {analyze_s:.1f} s; sweeping {due:,} due…")
        sweeper = Sweeper(pool, PolicyHolder(), SweepSettings(batch_size=bench.args.sweep_batch))
        await sweeper.sweep(until=until - timedelta(days=3650))  # loads the policy: not part of the sweep
        began = time.perf_counter()
        swept = await sweeper.sweep(until=until)
        seconds = time.perf_counter() - began
        progress(f"phase 4: swept {swept:,} in {seconds:.2f} s")
        async with pool.acquire() as conn:
            transitions = int(
                await conn.fetchval("SELECT count(*) FROM transitions WHERE starts_with(member_id, $1)", prefix)
            )
            outbox_rows = int(await conn.fetchval("SELECT count(*) FROM outbox WHERE id > $1", outbox_before))
            due_after = int(await conn.fetchval("SELECT count(*) FROM members WHERE next_review_at <= $1", until))
    finally:
        began = time.perf_counter()
        if outbox_before is not None:
            progress("phase 4: deleting the synthetic members, their transitions and outbox rows…")
            async with pool.acquire() as conn:
                await delete_sweep_rows(conn, prefix, outbox_before)
        await pool.close()
        cleanup_s = time.perf_counter() - began
    return SweepFigures(
        run=run,
        members_inserted=count,
        insert_s=insert_s,
        analyze_s=analyze_s,
        until=until.isoformat(),
        due=due,
        swept=swept,
        seconds=seconds,
        members_per_s=swept / seconds if seconds > 0 else 0.0,
        transitions=transitions,
        outbox_rows=outbox_rows,
        due_after=due_after,
        batch_size=bench.args.sweep_batch,
        cleanup_s=cleanup_s,
    )


async def delete_sweep_rows(conn: Any, prefix: str, outbox_after: int) -> None:
    key = prefix.encode()
    await conn.execute(
        "DELETE FROM outbox WHERE id > $1 AND published_at IS NULL AND substring(key FROM 1 FOR $2) = $3",
        outbox_after,
        len(key),
        key,
    )
    await conn.execute("DELETE FROM transitions WHERE starts_with(member_id, $1)", prefix)
    await conn.execute("DELETE FROM members WHERE starts_with(member_id, $1)", prefix)
    await conn.execute("VACUUM (ANALYZE) members")
