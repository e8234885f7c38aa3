"""Timers on event time: replenishment dates and queued offers, fired as the watermark passes them.

Each batch fires what its own events made due; this job covers the time between batches. In
live operation, once the input has been quiet a while, the wall clock moves the watermark on,
so a replenishment date passes even when nobody buys anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.campaigns.adapters import clock_repository, member_repository
from services.campaigns.adapters import metrics as campaign_metrics
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.clock import CLOCKED_TOPICS
from services.campaigns.service_layer.deciding import DecidingSettings, decide_and_record
from services.campaigns.service_layer.triggering import due_candidates
from shared.observability.logging import get_logger
from shared.postgres import outbox
from shared.stopping import sleep_or_stop

log = get_logger(__name__)

ENGAGEMENT_KEPT = timedelta(days=7)
FORGET_EVERY_S = 60.0


class Timers:
    def __init__(
        self,
        pool: Any,
        holder: CampaignHolder,
        settings: DecidingSettings,
        *,
        live_clock: bool,
        quiet_after_s: float,
        last_input_at: Callable[[], float | None],
    ) -> None:
        self._pool = pool
        self._holder = holder
        self._settings = settings
        self._live_clock = live_clock
        self._quiet_after_s = quiet_after_s
        self._last_input_at = last_input_at

    async def watermark(self, conn: Any) -> datetime | None:
        complete = await clock_repository.group_watermark(conn, CLOCKED_TOPICS)
        mark = None if complete is None else complete - self._settings.lateness
        last = self._last_input_at()
        quiet = last is None or time.monotonic() - last >= self._quiet_after_s
        if self._live_clock and quiet:
            wall = datetime.now(UTC) - self._settings.lateness
            mark = wall if mark is None else max(mark, wall)
        return mark

    async def fire_due(self, until: datetime | None = None) -> int:
        """Fire one batch of due timers; returns how many offers that issued."""
        async with self._pool.acquire() as conn, conn.transaction():
            mark = until or await self.watermark(conn)
            if mark is None:
                return 0
            campaign_metrics.WATERMARK.set(mark.timestamp())
            candidates = await due_candidates(conn, mark, self._holder, self._settings)
            records = await decide_and_record(conn, candidates, self._holder, self._settings)
            await outbox.append(conn, records)
        return len(records)

    async def forget_old_engagement(self) -> int:
        """Let go of engagement history no moment still to be looked at needs: superseded a week
        before the clock (a late mention sends circle marketing back at most that far, in practice)."""
        async with self._pool.acquire() as conn:
            mark = await self.watermark(conn)
            if mark is None:
                return 0
            return await member_repository.forget_engagement_before(conn, mark - ENGAGEMENT_KEPT)

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        forgot_at = time.monotonic()
        while not stop.is_set():
            try:
                await self.fire_due()
                if time.monotonic() - forgot_at >= FORGET_EVERY_S:
                    forgot_at = time.monotonic()
                    await self.forget_old_engagement()
            except Exception as exc:  # rolled back whole; the timers are still due next round
                log.warning("firing due timers failed; retrying next round", error=repr(exc))
            await sleep_or_stop(stop, interval_s)
