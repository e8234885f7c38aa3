"""Gauges read from a service's own tables, refreshed on a schedule beside its consumers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared.observability.logging import get_logger
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


async def refresh_gauges(stop: asyncio.Event, refresh: Callable[[], Awaitable[None]], every_s: float) -> None:
    """Run ``refresh`` until ``stop``; a failed round is logged and retried next round, never fatal."""
    while not stop.is_set():
        try:
            await refresh()
        except Exception as exc:  # a gauge is not worth stopping a service for
            log.warning("refreshing gauges failed", error=repr(exc))
        await sleep_or_stop(stop, every_s)
