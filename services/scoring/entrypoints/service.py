"""Wiring of the scoring process: the member-event consumer, the sweeper, policy refresh, the API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from services.scoring.adapters import community_repository, member_repository
from services.scoring.adapters import metrics as scoring_metrics
from services.scoring.domain.community_health import UNFOLLOW_BANDS, unfollow_band
from services.scoring.entrypoints import http
from services.scoring.entrypoints.settings import ScoringSettings
from services.scoring.entrypoints.topology import CONSUMES
from services.scoring.service_layer.handlers import member_events_handler, note_progress
from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.policy_refresh import keep_policy_current
from services.scoring.service_layer.sweeper import Sweeper
from shared.contracts.topics import SCORING_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.observability.refresh import refresh_gauges
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _build(ctx: ServiceContext, holder: PolicyHolder, settings: ScoringSettings) -> list[BatchConsumer[Any]]:
    return [
        batch_consumer(
            ctx,
            consumes=CONSUMES,
            decoder=cloudevents_by_topic(CONSUMES),
            handler=member_events_handler(holder, marks_await_reviews=settings.marks_await_reviews),
            dlq=SCORING_DLQ,
            # One consumer holds partition p of every topic (a member's events), and reads them all
            # in step by event time: a batch is complete up to its newest event (arrivals.py).
            co_partitioned=True,
            event_time_order=True,
            on_progress=partial(note_progress, marks_await_reviews=settings.marks_await_reviews),
        )
    ]


def _extend(ctx: ServiceContext, holder: PolicyHolder, settings: ScoringSettings) -> None:
    sweep = settings.sweep()
    consumer = ctx.consumers[0]
    sweeper = Sweeper(ctx.pool, holder, sweep, last_input_at=lambda: consumer.last_records_at)
    ctx.background.append(("sweeper", sweeper.run))
    ctx.background.append(("scoring-gauges", partial(refresh_gauges, refresh=_population(ctx.pool), every_s=15.0)))
    ctx.background.append(
        (
            "policy-refresh",
            partial(
                keep_policy_current,
                ctx.pool,
                holder,
                reload_s=settings.policy_reload_seconds,
                cuts_every_s=settings.rfm_refresh_seconds,
                lateness_s=settings.allowed_lateness_seconds,
            ),
        )
    )
    http.install(ctx.app, pool=ctx.pool, holder=holder, http=ctx.settings.http, lateness=sweep.allowed_lateness)


def definition(settings: ScoringSettings | None = None) -> ServiceDefinition:
    settings = settings or ScoringSettings()
    holder = PolicyHolder(settings.policy())
    return ServiceDefinition(
        name="scoring",
        migrations=MIGRATIONS,
        build_consumers=lambda ctx: _build(ctx, holder, settings),
        extend=lambda ctx: _extend(ctx, holder, settings),
    )


def _population(pool: Any) -> Callable[[], Awaitable[None]]:
    """Members by tier and lifecycle, and communities by unfollow-rate band, for the engagement dashboard.

    A community id is not a label (there may be tens of thousands): the bands keep the series bounded
    and still show how many communities are losing followers, and how fast."""

    async def refresh() -> None:
        async with pool.acquire() as conn:
            counts = await member_repository.population(conn)
            rates = await community_repository.unfollow_rates(conn)
        scoring_metrics.MEMBERS.clear()  # a combination nobody is in any more must read 0, not its last value
        for engagement, value, lifecycle, n in counts:
            scoring_metrics.MEMBERS.labels(engagement_tier=engagement, value_tier=value, lifecycle=lifecycle).set(n)
        bands = Counter(unfollow_band(rate) for rate in rates)
        for band in UNFOLLOW_BANDS:
            scoring_metrics.COMMUNITIES.labels(unfollow_rate_band=band).set(bands[band])

    return refresh
