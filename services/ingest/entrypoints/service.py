"""Wiring of the ingest process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.ingest.adapters.raw_records import raw_decoder
from services.ingest.entrypoints.topology import CONSUMES
from services.ingest.service_layer.handlers import publish_canonical
from shared.contracts.topics import INGEST_DLQ
from shared.kafka.consumer import BatchConsumer
from shared.runtime import ServiceContext, ServiceDefinition, batch_consumer


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_INGEST_", extra="ignore")

    # Keyed hash salt for member ids. Production sets a secret; changing it re-keys every member.
    pii_salt: SecretStr = SecretStr("memberpulse-local-dev-salt")


def build_consumers(ctx: ServiceContext) -> list[BatchConsumer[Any]]:
    salt = IngestSettings().pii_salt.get_secret_value().encode()
    return [
        batch_consumer(ctx, consumes=CONSUMES, decoder=raw_decoder(salt), handler=publish_canonical, dlq=INGEST_DLQ)
    ]


DEFINITION = ServiceDefinition(
    name="ingest", migrations=Path(__file__).resolve().parents[1] / "migrations", build_consumers=build_consumers
)
