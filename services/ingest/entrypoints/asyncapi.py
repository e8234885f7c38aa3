"""ingest's FastStream app: the source of docs/asyncapi/ingest.yaml."""

from services.ingest.entrypoints.topology import CONSUMES, PUBLISHES
from shared.asyncapi import contract_app

app = contract_app(
    "ingest",
    "Validates and normalises upstream chat and purchase records, hashes PII, drops duplicates.",
    consumes=CONSUMES,
    publishes=PUBLISHES,
)
