"""notifier's FastStream app: the source of docs/asyncapi/notifier.yaml."""

from services.notifier.entrypoints.topology import CONSUMES, PUBLISHES
from shared.asyncapi import contract_app

app = contract_app(
    "notifier",
    "Delivers offers as SMS, WeChat template messages, email and webhooks; retries, rate limits, consent.",
    consumes=CONSUMES,
    publishes=PUBLISHES,
)
