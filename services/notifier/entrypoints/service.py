"""Wiring of the notifier process."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifier.entrypoints.topology import CONSUMES
from services.notifier.service_layer.handlers import offer_handler
from shared.contracts import Channel
from shared.contracts.topics import NOTIFIER_DLQ
from shared.runtime import single_consumer_service


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MP_NOTIFIER_", extra="ignore")

    # Channels with a provider configured; none until the channel adapters land.
    channels: frozenset[Channel] = frozenset()


DEFINITION = single_consumer_service(
    "notifier",
    Path(__file__).resolve().parents[1] / "migrations",
    consumes=CONSUMES,
    dlq=NOTIFIER_DLQ,
    handler=lambda ctx: offer_handler(NotifierSettings().channels),
)
