"""File replay: publish a backfill file's records to the raw topics, as upstream would have live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.ingest.adapters.raw_publisher import raw_record
from services.ingest.adapters.raw_records import ParserSettings, parse_body
from services.ingest.adapters.replay_files import records
from services.ingest.domain.errors import InvalidRecord
from shared.contracts import KafkaRecord
from shared.kafka.producer import idempotent_producer, send_all
from shared.settings import KafkaSettings

CHUNK = 2_000


@dataclass
class ReplayReport:
    published: int = 0
    # Records that will be dead-lettered by the consumer (counted here only for the summary).
    invalid: int = 0


async def replay_file(
    path: Path,
    *,
    source: str,
    layout: str,
    parser: ParserSettings,
    kafka: KafkaSettings,
    progress: Callable[[int], None] = lambda _: None,
) -> ReplayReport:
    report = ReplayReport()
    producer = idempotent_producer(kafka, "ingest-replay")
    await producer.start()
    header = (("mp-replay", path.name.encode()),)
    try:
        chunk: list[KafkaRecord] = []
        consumed = 0
        for body, consumed in records(path, layout):
            try:
                parsed = parse_body(source, body, parser)
            except InvalidRecord:
                parsed = None
                report.invalid += 1
            chunk.append(raw_record(source, body, parsed, header))
            if len(chunk) >= CHUNK:
                await send_all(producer, chunk)
                report.published += len(chunk)
                chunk = []
                progress(consumed)
        await send_all(producer, chunk)
        report.published += len(chunk)
        progress(consumed)
    finally:
        await producer.stop()
    return report
