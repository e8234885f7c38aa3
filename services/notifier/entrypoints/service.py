"""Wiring of the notifier process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifier.entrypoints.topology import CONSUMES
from services.notifier.service_layer.handlers import offer_handler
from shared.contracts import Channel
from shared.contracts.topics import NOTIFIER_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_NOTIFIER_", extra="ignore")

    # Channels with a provider configured; none until the channel adapters land.
    channels: frozenset[Channel] = frozenset()


def build_consumers(ctx: ServiceContext) -> list[BatchConsumer[Any]]:
    handler = offer_handler(NotifierSettings().channels)
    return [
        batch_consumer(
            ctx, consumes=CONSUMES, decoder=cloudevents_by_topic(CONSUMES), handler=handler, dlq=NOTIFIER_DLQ
        )
    ]


DEFINITION = ServiceDefinition(
    name="notifier", migrations=Path(__file__).resolve().parents[1] / "migrations", build_consumers=build_consumers
)
