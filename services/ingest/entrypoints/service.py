"""Wiring of the ingest process."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.ingest.adapters.raw_records import raw_decoder
from services.ingest.entrypoints.topology import CONSUMES
from services.ingest.service_layer.handlers import publish_canonical
from shared.contracts.topics import INGEST_DLQ
from shared.runtime import single_consumer_service


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_INGEST_", extra="ignore")

    # Keyed hash salt for member ids. Production sets a secret; changing it re-keys every member.
    pii_salt: SecretStr = SecretStr("memberpulse-local-dev-salt")


DEFINITION = single_consumer_service(
    "ingest",
    Path(__file__).resolve().parents[1] / "migrations",
    consumes=CONSUMES,
    dlq=INGEST_DLQ,
    handler=lambda ctx: publish_canonical,
    decoder=lambda ctx: raw_decoder(IngestSettings().pii_salt.get_secret_value().encode()),
)
