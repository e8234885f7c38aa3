"""Wiring of the notifier process: the offer consumer, the dispatcher, the providers and the API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from services.notifier.adapters import metrics as notifier_metrics
from services.notifier.adapters import rate_buckets, send_ledger
from services.notifier.adapters.providers import build_provider
from services.notifier.adapters.providers.base import Provider
from services.notifier.adapters.templates import RenderError, TemplateRenderer
from services.notifier.entrypoints import http
from services.notifier.entrypoints.settings import NotifierSettings
from services.notifier.entrypoints.topology import CONSUMES
from services.notifier.service_layer.dispatcher import Dispatcher
from services.notifier.service_layer.intake import intake_handler
from shared.contracts import Channel, MessageType, OfferIssuedV1
from shared.contracts.topics import NOTIFIER_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.observability.logging import get_logger
from shared.observability.refresh import refresh_gauges
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
log = get_logger(__name__)


class Wiring:
    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.providers: dict[Channel, Provider] = {}
        self.renderer = TemplateRenderer(override_dir=settings.templates_dir, default_locale=settings.default_locale)

    def build(self, ctx: ServiceContext) -> list[BatchConsumer[Any]]:
        self.providers = {channel: build_provider(config) for channel, config in self.settings.providers().items()}
        return [
            batch_consumer(
                ctx,
                consumes=CONSUMES,
                decoder=cloudevents_by_topic(CONSUMES),
                handler=intake_handler(frozenset(self.providers)),
                dlq=NOTIFIER_DLQ,
            )
        ]

    def extend(self, ctx: ServiceContext) -> None:
        limits = {
            channel: (limit.per_second, limit.burst)
            for channel, limit in ((c, self.settings.rate_limit(p.name)) for c, p in self.providers.items())
        }
        dispatcher = Dispatcher(ctx.pool, self.providers, self.renderer, self.settings.dispatch(), limits=limits)
        ctx.consumers[0].after_commit = dispatcher.wake
        ctx.background.append(("dispatcher", self._dispatch(dispatcher)))
        ctx.background.append(("notifier-gauges", partial(refresh_gauges, refresh=_gauges(ctx.pool), every_s=5.0)))
        http.install(ctx.app, pool=ctx.pool, settings=self.settings, http=ctx.settings.http)

    async def prepare(self, ctx: ServiceContext) -> None:
        """Check the templates and create or update the providers' rate buckets before anything is sent."""
        problems = self.renderer.check()
        for problem in problems:
            log.error("template problem", problem=problem)
        self._warm_up()
        async with ctx.pool.acquire() as conn:
            for provider in self.providers.values():
                limit = self.settings.rate_limit(provider.name)
                capacity = limit.bucket_capacity(self.settings.rate_headroom_seconds)
                bucket = rate_buckets.BucketConfig(provider.name, limit.per_second, capacity)
                await rate_buckets.configure(conn, bucket)
        log.info(
            "notifier ready",
            channels=sorted(c.value for c in self.providers),
            template_problems=len(problems),
        )

    def _warm_up(self) -> None:
        """Render one message per configured channel now, so locale data is loaded before the first
        real send: a first send that stalls holds back rate-limit tokens already granted, which then
        reach the provider together with the next ones."""
        sample = OfferIssuedV1(
            member_id="warm-up",
            occurred_at=datetime.now(UTC),
            offer_id="warm-up",
            campaign_id="warm-up",
            campaign_kind="warm_up",
            message_type=MessageType.GREETING,
            channels=tuple(self.providers) or (Channel.SMS,),
            template="greeting",
            locale=self.settings.default_locale,
            coupon_value_minor=0,
            expires_at=datetime.now(UTC),
        )
        for channel in self.providers:
            try:
                self.renderer.render(sample, channel, to="warm-up", unsubscribe_url="http://warm-up/")
            except RenderError as exc:
                log.warning("template warm-up failed", channel=channel.value, error=str(exc))

    def _dispatch(self, dispatcher: Dispatcher):  # type: ignore[no-untyped-def]
        async def run(stop: asyncio.Event) -> None:
            try:
                await dispatcher.run(stop)
            finally:
                for provider in self.providers.values():
                    await provider.aclose()

        return run


def _gauges(pool: Any) -> Callable[[], Awaitable[None]]:
    async def refresh() -> None:
        async with pool.acquire() as conn:
            notifier_metrics.SENDS_DUE.set(await send_ledger.due_count(conn))

    return refresh


def definition(settings: NotifierSettings | None = None) -> ServiceDefinition:
    wiring = Wiring(settings or NotifierSettings())
    return ServiceDefinition(
        name="notifier",
        migrations=MIGRATIONS,
        build_consumers=wiring.build,
        extend=wiring.extend,
        prepare=wiring.prepare,
    )
