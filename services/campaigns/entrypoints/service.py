"""Wiring of the campaigns process: the input consumer, timers, campaign refresh and the API."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from services.campaigns.adapters import campaign_repository
from services.campaigns.entrypoints import http
from services.campaigns.entrypoints.settings import CampaignsSettings
from services.campaigns.entrypoints.topology import CONSUMES
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.clock import FEEDBACK
from services.campaigns.service_layer.definitions_loader import load_folder
from services.campaigns.service_layer.handlers import campaigns_handler, note_progress
from services.campaigns.service_layer.timers import Timers
from shared.contracts.topics import CAMPAIGNS_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.observability.logging import get_logger
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
ORIGIN_FILE = "file"
log = get_logger(__name__)


class Wiring:
    def __init__(self, settings: CampaignsSettings) -> None:
        self.settings = settings
        self.deciding = settings.deciding()
        self.holder: CampaignHolder | None = None

    def build(self, ctx: ServiceContext) -> list[BatchConsumer[Any]]:
        self.holder = CampaignHolder(ctx.pool)
        return [
            batch_consumer(
                ctx,
                consumes=CONSUMES,
                decoder=cloudevents_by_topic(CONSUMES),
                handler=campaigns_handler(self.holder, self.deciding),
                dlq=CAMPAIGNS_DLQ,
                event_time_order=True,
                feedback=FEEDBACK,
                on_progress=note_progress,
            )
        ]

    def extend(self, ctx: ServiceContext) -> None:
        holder = self._holder()
        consumer = ctx.consumers[0]
        timers = Timers(
            ctx.pool,
            holder,
            self.deciding,
            live_clock=self.settings.live_clock,
            quiet_after_s=self.settings.quiet_after_seconds,
            last_input_at=lambda: consumer.last_records_at,
        )
        ctx.background.append(("timers", partial(timers.run, interval_s=self.settings.due_interval_seconds)))
        ctx.background.append(("campaign-refresh", partial(holder.run, every_s=self.settings.refresh_seconds)))
        http.install(ctx.app, pool=ctx.pool, http=ctx.settings.http, on_change=holder.refresh)

    async def prepare(self, ctx: ServiceContext) -> None:
        """Load the definitions folder (new versions only where a file changed), then the campaigns."""
        holder = self._holder()
        folder = self.settings.definitions_dir
        if folder is not None:
            campaigns = load_folder(folder)
            async with ctx.pool.acquire() as conn, conn.transaction():
                for campaign in campaigns:
                    history = await campaign_repository.versions(conn, campaign.id)
                    if history and history[-1].origin == http.ORIGIN:
                        # Staff edited it through the API since: their edit wins over the file.
                        log.info("campaign file skipped: edited through the API", campaign=campaign.id)
                        continue
                    await campaign_repository.upsert(conn, campaign, ORIGIN_FILE)
            log.info("campaign definitions loaded", folder=str(folder), campaigns=len(campaigns))
        await holder.refresh()

    def _holder(self) -> CampaignHolder:
        if self.holder is None:
            raise RuntimeError("consumers must be built before the rest of the wiring")
        return self.holder


def definition(settings: CampaignsSettings | None = None) -> ServiceDefinition:
    wiring = Wiring(settings or CampaignsSettings())
    return ServiceDefinition(
        name="campaigns",
        migrations=MIGRATIONS,
        build_consumers=wiring.build,
        extend=wiring.extend,
        prepare=wiring.prepare,
    )
