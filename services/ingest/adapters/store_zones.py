"""Each store's time zone, held in the process so the decoder can place till receipts in event time.

The store registry is small (one row per store) and changes rarely: it is read at start-up and
every minute after. A store it does not know yet counts as the default zone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.ingest.adapters import repository
from shared.observability.logging import get_logger
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


class StoreZones:
    def __init__(self, default: str) -> None:
        self._default = default
        self._zones: dict[str, str] = {}

    def zone_of(self, store_id: str) -> str:
        return self._zones.get(store_id, self._default)

    async def refresh(self, pool: Any) -> None:
        async with pool.acquire() as conn:
            self._zones = await repository.store_zones(conn)

    async def run(self, stop: asyncio.Event, pool: Any, every_s: float = 60.0) -> None:
        while not stop.is_set():
            await sleep_or_stop(stop, every_s)
            try:
                await self.refresh(pool)
            except Exception as exc:  # the zones read last stay in use; the next round tries again
                log.warning("store zones not refreshed", error=repr(exc))
