"""Keeping the policy current: the latest fitted model and RFM cut points, recomputed on schedule."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from services.scoring.adapters import clock_repository, model_repository
from services.scoring.service_layer.policy_holder import PolicyHolder
from shared.observability.logging import get_logger
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


async def recompute_cuts(pool: Any, lateness_s: float) -> None:
    """New RFM cut points as of the watermark (event time, so a replay tiers as a live run would)."""
    async with pool.acquire() as conn, conn.transaction():
        # Replicas share the schedule: whoever holds the lock computes, the others skip a round.
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('scoring.rfm_cuts'))"):
            return
        as_of = await clock_repository.stream_watermark(conn, timedelta(seconds=lateness_s))
        if as_of is not None:
            await model_repository.compute_cuts(conn, as_of)


async def keep_policy_current(
    pool: Any, holder: PolicyHolder, stop: asyncio.Event, *, reload_s: float, cuts_every_s: float, lateness_s: float
) -> None:
    last_cuts = time.monotonic()
    while not stop.is_set():
        try:
            if cuts_every_s > 0 and time.monotonic() - last_cuts >= cuts_every_s:
                last_cuts = time.monotonic()
                await recompute_cuts(pool, lateness_s)
            async with pool.acquire() as conn:
                await holder.reload(conn)
        except Exception as exc:  # the policy in force stays; the next round tries again
            log.warning("policy refresh failed", error=repr(exc))
        await sleep_or_stop(stop, reload_s)
