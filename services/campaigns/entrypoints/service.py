"""Wiring of the campaigns process."""

from pathlib import Path

from services.campaigns.entrypoints.topology import CONSUMES
from services.campaigns.service_layer.handlers import issue_offers
from shared.contracts.topics import CAMPAIGNS_DLQ
from shared.runtime import single_consumer_service

DEFINITION = single_consumer_service(
    "campaigns",
    Path(__file__).resolve().parents[1] / "migrations",
    consumes=CONSUMES,
    dlq=CAMPAIGNS_DLQ,
    handler=lambda ctx: issue_offers,
)
