"""Wiring of the ingest process: the raw-topic consumer and the HTTP API."""

from __future__ import annotations

from pathlib import Path

from services.ingest.adapters.raw_records import raw_decoder
from services.ingest.entrypoints import http
from services.ingest.entrypoints.settings import IngestSettings
from services.ingest.entrypoints.topology import CONSUMES
from services.ingest.service_layer.handlers import canonical_publisher
from shared.contracts.topics import INGEST_DLQ
from shared.runtime import ServiceContext, single_consumer_service


def _install_http(ctx: ServiceContext) -> None:
    http.install(ctx.app, settings=IngestSettings(), pool=ctx.pool, producer=ctx.producer)


DEFINITION = single_consumer_service(
    "ingest",
    Path(__file__).resolve().parents[1] / "migrations",
    consumes=CONSUMES,
    dlq=INGEST_DLQ,
    handler=lambda ctx: canonical_publisher(IngestSettings().policy()),
    decoder=lambda ctx: raw_decoder(IngestSettings().parser()),
    extend=_install_http,
)
