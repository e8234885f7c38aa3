"""campaigns' FastStream app: the source of docs/asyncapi/campaigns.yaml."""

from services.campaigns.entrypoints.topology import CONSUMES, PUBLISHES
from shared.asyncapi import contract_app

app = contract_app(
    "campaigns",
    "Turns member state changes and purchases into offers, with caps, priorities, budgets and holdouts.",
    consumes=CONSUMES,
    publishes=PUBLISHES,
)
