"""The idempotent producer every publisher uses: acks=all, idempotence on, ordered per partition."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.contracts.envelope import KafkaRecord
from shared.contracts.topics import MAX_DLQ_MESSAGE_BYTES
from shared.settings import KafkaSettings


def idempotent_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.client_id_prefix}-{client_id}",
        enable_idempotence=True,  # implies acks=all; retries cannot duplicate or reorder
        acks="all",
        linger_ms=5,
        request_timeout_ms=30_000,
        # Dead letters of oversized input are large; the topics' own limits still apply to the rest.
        max_request_size=MAX_DLQ_MESSAGE_BYTES,
    )


async def send_all(producer: AIOKafkaProducer, records: Sequence[KafkaRecord]) -> None:
    """Send records in order and wait until the broker acknowledged every one of them."""
    futures = [
        await producer.send(record.topic, value=record.value, key=record.key, headers=list(record.headers))
        for record in records
    ]
    for future in futures:
        await future
