"""Wiring of the scoring process."""

from pathlib import Path

from services.scoring.entrypoints.topology import CONSUMES
from services.scoring.service_layer.handlers import apply_member_events
from shared.contracts.topics import SCORING_DLQ
from shared.runtime import single_consumer_service

DEFINITION = single_consumer_service(
    "scoring",
    Path(__file__).resolve().parents[1] / "migrations",
    consumes=CONSUMES,
    dlq=SCORING_DLQ,
    handler=lambda ctx: apply_member_events,
)
