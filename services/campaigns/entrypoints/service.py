"""Wiring of the campaigns process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.campaigns.entrypoints.topology import CONSUMES
from services.campaigns.service_layer.handlers import issue_offers
from shared.contracts.topics import CAMPAIGNS_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer


def build_consumers(ctx: ServiceContext) -> list[BatchConsumer[Any]]:
    return [
        batch_consumer(
            ctx, consumes=CONSUMES, decoder=cloudevents_by_topic(CONSUMES), handler=issue_offers, dlq=CAMPAIGNS_DLQ
        )
    ]


DEFINITION = ServiceDefinition(
    name="campaigns", migrations=Path(__file__).resolve().parents[1] / "migrations", build_consumers=build_consumers
)
