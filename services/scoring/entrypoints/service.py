"""Wiring of the scoring process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.scoring.entrypoints.topology import CONSUMES
from services.scoring.service_layer.handlers import apply_member_events
from shared.contracts.topics import SCORING_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.kafka.decoders import cloudevents_by_topic
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer


def build_consumers(ctx: ServiceContext) -> list[BatchConsumer[Any]]:
    return [
        batch_consumer(
            ctx, consumes=CONSUMES, decoder=cloudevents_by_topic(CONSUMES), handler=apply_member_events, dlq=SCORING_DLQ
        )
    ]


DEFINITION = ServiceDefinition(
    name="scoring", migrations=Path(__file__).resolve().parents[1] / "migrations", build_consumers=build_consumers
)
