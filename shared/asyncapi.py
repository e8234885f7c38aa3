"""Each service's FastStream app, from which its AsyncAPI document is generated.

The app declares what the service consumes and publishes, using the same ``TopicSpec``
tuples the service builds its consumers and outbox records from, so the document cannot
drift from the code. The FastStream broker is never started: consumption runs on the
batch consumer (see ``shared.kafka.consumer`` for why).
``make docs`` runs ``faststream docs gen services.<name>.entrypoints.asyncapi:app``.
"""

from __future__ import annotations

from collections.abc import Sequence

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from shared.contracts.topics import TopicSpec
from shared.settings import KafkaSettings


def contract_app(
    service: str, description: str, *, consumes: Sequence[TopicSpec], publishes: Sequence[TopicSpec]
) -> FastStream:
    broker = KafkaBroker(KafkaSettings().bootstrap_servers, description="Apache Kafka, CloudEvents binary mode")
    for spec in publishes:
        broker.publisher(
            spec.name,
            title=f"{spec.name}:publish",
            description=f"{spec.description}. Key: {spec.key}.",
            schema=spec.contract,
        )
    for spec in consumes:

        async def handler(event: spec.contract) -> None:  # type: ignore[name-defined]
            """Applied by the batch consumer, effectively once."""

        broker.subscriber(
            spec.name,
            group_id=service,
            title=f"{spec.name}:consume",
            description=f"{spec.description}. Key: {spec.key}.",
        )(handler)
    return FastStream(
        broker, specification=AsyncAPI(broker, title=f"memberpulse-{service}", version="1", description=description)
    )
