"""The sweeper: time-driven transitions (silent, overdue, dormant...) for members nothing happened to.

It claims members whose ``next_review_at`` has passed the watermark, a batch at a time with
``FOR UPDATE SKIP LOCKED`` (replicas share the work, and a member a consumer holds is simply
left for the next round), runs each due review at its own due time, and commits state, the
transition log and the outbox in one transaction. Its cost follows the members due, never all
members.

The watermark follows the stream: the slowest input partition's latest event time, less the
allowed lateness. In live mode, once the input has been quiet for a while, the wall clock
(less the lateness) advances it too, so silence is noticed even when nobody says anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.scoring.adapters import clock_repository, member_repository, metrics
from services.scoring.domain.lifecycle import Transition, advance
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.service_layer import marks
from services.scoring.service_layer.changes import commit_changes
from services.scoring.service_layer.observe import count_transitions
from services.scoring.service_layer.policy_holder import PolicyHolder
from shared.contracts import KafkaRecord
from shared.observability.logging import get_logger
from shared.postgres import outbox
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


@dataclass(frozen=True)
class SweepSettings:
    allowed_lateness: timedelta = timedelta(minutes=5)
    batch_size: int = 1_000
    interval_s: float = 1.0
    live_clock: bool = True
    # The input counts as quiet (live) after this long without records.
    quiet_after_s: float = 5.0
    # Move member.state.v1's progress marks on after reviews (service_layer/marks.py).
    marks_await_reviews: bool = False


def _review(state: MemberState, mark: datetime, policy: Policy) -> tuple[MemberState, list[Transition]]:
    """One member's due reviews. A review that fails parks that member until its next event, so one
    bad state cannot stop every other member's reviews (the batch would fail on it every round)."""
    try:
        return advance(state, mark, policy)
    except (ArithmeticError, ValueError) as exc:
        log.error("review failed; member parked until its next event", member_id=state.member_id, error=repr(exc))
        metrics.PARKED.inc()
        return replace(state, next_review_at=None), []


class Sweeper:
    def __init__(
        self,
        pool: Any,
        holder: PolicyHolder,
        settings: SweepSettings,
        last_input_at: Callable[[], float] | None = None,
    ) -> None:
        self._pool = pool
        self._holder = holder
        self._settings = settings
        self._last_input_at = last_input_at

    async def watermark(self, conn: Any) -> datetime | None:
        mark = await clock_repository.stream_watermark(conn, self._settings.allowed_lateness)
        quiet = (
            self._last_input_at is not None and time.monotonic() - self._last_input_at() >= self._settings.quiet_after_s
        )
        if self._settings.live_clock and quiet:
            wall = datetime.now(UTC) - self._settings.allowed_lateness
            mark = wall if mark is None else max(mark, wall)
        return mark

    async def sweep_batch(self, until: datetime | None = None) -> int:
        """Review one batch of due members; returns how many were claimed."""
        started = time.perf_counter()
        async with self._pool.acquire() as conn, conn.transaction():
            policy = await self._holder.ready(conn)
            mark = until or await self.watermark(conn)
            if mark is None:
                return 0
            metrics.WATERMARK.set(mark.timestamp())
            metrics.WATERMARK_DELAY.set(max(0.0, time.time() - mark.timestamp()))
            due = await member_repository.claim_due(conn, mark, self._settings.batch_size)
            if not due:
                return 0
            finals = []
            transitions: list[Transition] = []
            for state in due:
                state, caused = _review(state, mark, policy)
                finals.append(state)
                transitions += caused
            outgoing: list[KafkaRecord] = []
            await commit_changes(conn, finals, transitions, policy, outgoing.append)
            if self._settings.marks_await_reviews:
                outgoing += await marks.after_reviews(conn)
            await outbox.append(conn, outgoing)
        count_transitions(transitions)
        metrics.SWEPT.inc(len(due))
        metrics.SWEEP_DURATION.observe(time.perf_counter() - started)
        return len(due)

    async def sweep(self, until: datetime | None = None) -> int:
        """Review everyone due, batch after batch, until a batch comes back short."""
        total = 0
        while True:
            claimed = await self.sweep_batch(until)
            total += claimed
            if claimed < self._settings.batch_size:
                return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # a failed sweep rolls back whole and is retried next round
                log.warning("sweep failed; retrying next round", error=repr(exc))
            await sleep_or_stop(stop, self._settings.interval_s)
