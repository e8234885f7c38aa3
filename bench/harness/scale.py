"""Scoring's per-event and sweep cost as stored members grow: the smallest count, then 1M, then 10M.

At each step the rows added are bulk-loaded (``scale_load``) into the scratch copy of scoring's
schema, a fixed number of them due at W. Then, with the service's own code on that schema:

- apply: batches of events (sales, chat messages, joins; ``bench.scoring.latency.first_event``)
  for distinct stored members, none due, picked at random over the rows added, each batch as the
  consumer runs it: a transaction with the inbox claim, ``apply_member_events`` and the outbox
  append. Cost = the median batch's time per event.
- claim: scoring's due-member query (``member_repository.claim_due``, one sweep batch), in a
  transaction rolled back, median of a few.
- sweep: ``Sweeper.sweep(until=W)`` over the due members, whole: claim, review, save, transitions, outbox.

If the costs follow the work (events, due members), not the table, each step's cost over the
smallest's stays near 1.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from bench.campaigns.counting import FakeRecord
from bench.harness.model import ScalePoint
from bench.harness.scale_load import load_members, member_id, sample_not_due
from bench.ingest_throughput import new_run_id, progress
from bench.scoring.config import SWEEP_UNTIL
from bench.scoring.latency import first_event
from services.scoring.adapters import member_repository
from services.scoring.domain.policy import Policy
from services.scoring.service_layer.handlers import apply_member_events
from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.sweeper import Sweeper, SweepSettings
from shared.contracts.topics import DEFAULT_PARTITIONS, topic_for_contract
from shared.kafka.records import Decoded, UnitOfWork
from shared.postgres import inbox, outbox

SEED = 7
CLAIM_REPEATS = 5
SWEEP_BATCH = 1_000  # scoring's default sweep batch


def event_batch(run: str, prefix: str, rows: list[int], first: int, at: datetime) -> list[Decoded[Any]]:
    """One event per stored row (a sale, a chat message or a join, in turn), a second apart from ``at``."""
    batch: list[Decoded[Any]] = []
    for k, n in enumerate(rows):
        number = first + k
        ref, event = first_event(run, number, at + timedelta(seconds=number))
        event = event.model_copy(update={"member_id": member_id(prefix, n)})
        record = FakeRecord(
            topic=topic_for_contract(type(event)).name,
            partition=n % DEFAULT_PARTITIONS,
            offset=number,
            timestamp=int(event.occurred_at.timestamp() * 1000),
            key=event.member_id.encode(),
            value=b"",
        )
        batch.append(Decoded(f"{ref}-scale", event, record, event.occurred_at))
    return batch


async def apply_batch(conn: Any, batch: list[Decoded[Any]], policy: Policy) -> float:
    """What scoring's consumer does with one batch, committed; its seconds."""
    began = time.perf_counter()
    async with conn.transaction():
        fresh = await inbox.claim(conn, [d.event_id for d in batch], [d.record.topic for d in batch])
        uow = UnitOfWork(conn, progress={(d.record.topic, d.record.partition): True for d in batch})
        await apply_member_events(uow, [d for d in batch if d.event_id in fresh], policy)
        await outbox.append(conn, uow.outgoing)
    return time.perf_counter() - began


async def median_claim_ms(conn: Any, until: datetime) -> float:
    spent = []
    for _ in range(CLAIM_REPEATS):
        tx = conn.transaction()
        await tx.start()
        try:
            began = time.perf_counter()
            await member_repository.claim_due(conn, until, SWEEP_BATCH)
            spent.append(1000 * (time.perf_counter() - began))
        finally:
            await tx.rollback()
    return statistics.median(spent)


async def measure_step(
    pool: Any, prefix: str, start: int, end: int, due: int, batches: int, batch_size: int, rng: random.Random
) -> ScalePoint:
    until = SWEEP_UNTIL
    progress(f"scale: loading members {start:,} → {end:,} ({due:,} due)…")
    async with pool.acquire() as conn:
        load_s = await load_members(conn, prefix, start, end, due, until)
        progress(f"scale: {end:,} members stored; the {end - start:,} added took {load_s:.1f} s")
        policy = await PolicyHolder().ready(conn)
        rows = sample_not_due(start, end, due, batches * batch_size, rng)
        run = new_run_id()
        at = until + timedelta(days=1)
        spent = []
        for b in range(batches):
            chunk = rows[b * batch_size : (b + 1) * batch_size]
            spent.append(await apply_batch(conn, event_batch(run, prefix, chunk, b * batch_size, at), policy))
        claim_ms = await median_claim_ms(conn, until)
    sweeper = Sweeper(pool, PolicyHolder(), SweepSettings(batch_size=SWEEP_BATCH))
    began = time.perf_counter()
    swept = await sweeper.sweep(until=until)
    sweep_s = time.perf_counter() - began
    point = ScalePoint(
        members=end,
        load_s=load_s,
        apply_events=len(rows),
        apply_us_per_event=1e6 * statistics.median(spent) / batch_size,
        due=due,
        claim_ms=claim_ms,
        swept=swept,
        sweep_ms_per_1000_due=1e6 * sweep_s / swept if swept else None,
    )
    progress(
        f"scale: {end:,} members: apply {point.apply_us_per_event:,.0f} µs/event, claim {claim_ms:.1f} ms,"
        f" sweep {swept:,} due in {sweep_s:.2f} s"
    )
    return point


async def measure_scale(
    pool: Any, counts: tuple[int, ...], due: int, batches: int, batch_size: int
) -> list[ScalePoint]:
    prefix = f"m_{new_run_id()}_scale_"
    rng = random.Random(SEED)  # noqa: S311 - a reproducible workload, not a secret
    points = []
    start = 0
    for end in counts:
        points.append(await measure_step(pool, prefix, start, end, due, batches, batch_size, rng))
        start = end
    return points
