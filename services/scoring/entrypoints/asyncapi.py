"""scoring's FastStream app: the source of docs/asyncapi/scoring.yaml."""

from services.scoring.entrypoints.topology import CONSUMES, PUBLISHES
from shared.asyncapi import contract_app

app = contract_app(
    "scoring",
    "Keeps each member's engagement tier, value tier, lifecycle, P(alive) and value, on event time.",
    consumes=CONSUMES,
    publishes=PUBLISHES,
)
