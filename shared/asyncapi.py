"""Each service's FastStream app, from which its AsyncAPI document is generated.

The app declares what the service consumes and publishes, using the same ``TopicSpec``
tuples the service builds its consumers and outbox records from, so the document cannot
drift from the code. The FastStream broker is never started: consumption runs on the
batch consumer (see ``shared.kafka.consumer`` for why).
``make docs`` runs ``faststream docs gen services.<name>.entrypoints.asyncapi:app``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from shared.contracts.topics import TopicSpec
from shared.settings import KafkaSettings


def contract_app(
    service: str, description: str, *, consumes: Sequence[TopicSpec], publishes: Sequence[TopicSpec]
) -> FastStream:
    # The documented server is the local default, not this shell's environment, so docs are reproducible.
    local_default = str(KafkaSettings.model_fields["bootstrap_servers"].default)
    broker = KafkaBroker(local_default, description="Apache Kafka, CloudEvents binary mode")
    for spec in publishes:
        broker.publisher(
            spec.name,
            title=f"{spec.name}:publish",
            description=f"{spec.description}. Key: {spec.key}.",
            schema=spec.contract,
        )
    for spec in consumes:
        broker.subscriber(
            spec.name,
            group_id=service,
            title=f"{spec.name}:consume",
            description=f"{spec.description}. Key: {spec.key}.",
        )(_documented_handler(spec.contract))
    return FastStream(
        broker, specification=AsyncAPI(broker, title=f"memberpulse-{service}", version="1", description=description)
    )


def _documented_handler(contract: type[BaseModel]) -> Callable[..., Awaitable[None]]:
    """A handler whose signature tells FastStream the payload model; it is never called."""

    async def handler(event: BaseModel) -> None:
        """Applied by the batch consumer, effectively once."""

    handler.__annotations__ = {"event": contract, "return": None}
    return handler
