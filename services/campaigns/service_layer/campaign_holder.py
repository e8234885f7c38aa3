"""The campaigns and reference data a process decides with, kept current from the database.

Every replica reads the same tables, so a campaign created, changed or paused through any
replica's API reaches all of them within one refresh interval (at once on the replica asked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from services.campaigns.adapters import campaign_repository, reference_repository
from services.campaigns.adapters import metrics as campaign_metrics
from services.campaigns.domain.catalog import next_tier_map
from services.campaigns.domain.definitions import CampaignStatus
from services.campaigns.domain.triggers import Versioned
from shared.observability.logging import get_logger
from shared.stopping import sleep_or_stop

log = get_logger(__name__)


class CampaignHolder:
    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.active: tuple[Versioned, ...] = ()
        self.next_tier: Mapping[str, tuple[str, str]] = {}
        # store id → (time zone, region)
        self.stores: Mapping[str, tuple[str, str | None]] = {}
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock, self.pool.acquire() as conn:
            stored = await campaign_repository.load_all(conn)
            self.active = tuple(s.versioned for s in stored if s.status is CampaignStatus.ACTIVE)
            self.next_tier = next_tier_map(await reference_repository.price_ladder(conn))
            self.stores = await reference_repository.store_zones(conn)
        campaign_metrics.ACTIVE_CAMPAIGNS.set(len(self.active))

    async def run(self, stop: asyncio.Event, every_s: float) -> None:
        while not stop.is_set():
            await sleep_or_stop(stop, every_s)
            if stop.is_set():
                return
            try:
                await self.refresh()
            except Exception as exc:  # a failed refresh keeps the last good campaigns
                log.warning("campaign refresh failed", error=repr(exc))
