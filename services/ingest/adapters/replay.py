"""File replay: publish backfill files' records to the raw topics, as upstream would have live.

Several files are merged in event-time order (see ``domain/event_order.py``); one file goes out
in its own order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.ingest.adapters.raw_publisher import raw_record
from services.ingest.adapters.raw_records import ParserSettings, parse_body
from services.ingest.adapters.replay_files import records
from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.event_order import event_time, merged_by_event_time
from services.ingest.domain.model import Ignored, Parsed
from shared.contracts import KafkaRecord
from shared.kafka.producer import idempotent_producer, send_all
from shared.settings import KafkaSettings

CHUNK = 2_000


@dataclass(frozen=True)
class ReplayInput:
    path: Path
    source: str
    layout: str


@dataclass
class ReplayReport:
    # Per file name: records published, and how many of them will be dead-lettered by the consumer
    # (counted here only for the summary).
    published: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Read:
    record: KafkaRecord
    name: str
    invalid: bool
    consumed: int  # bytes of its file read so far


async def replay_files(
    inputs: Sequence[ReplayInput],
    *,
    parser: ParserSettings,
    kafka: KafkaSettings,
    zone_of: Callable[[str], str],
    progress: Callable[[int], None] = lambda _: None,
) -> ReplayReport:
    """Publish every record of ``inputs``; ``progress`` gets the bytes read so far over all files."""
    report = ReplayReport({i.path.name: 0 for i in inputs}, {i.path.name: 0 for i in inputs})
    consumed = dict.fromkeys(range(len(inputs)), 0)
    producer = idempotent_producer(kafka, "ingest-replay")
    await producer.start()
    try:
        chunk: list[_Read] = []
        streams = [_read(index, i, parser, zone_of) for index, i in enumerate(inputs)]
        for index, read in merged_by_event_time(streams):
            chunk.append(read)
            consumed[index] = read.consumed
            if len(chunk) >= CHUNK:
                await _publish(producer, chunk, report)
                chunk = []
                progress(sum(consumed.values()))
        await _publish(producer, chunk, report)
        progress(sum(consumed.values()))
    finally:
        await producer.stop()
    return report


def _read(
    index: int, replayed: ReplayInput, parser: ParserSettings, zone_of: Callable[[str], str]
) -> Iterator[tuple[datetime | None, tuple[int, _Read]]]:
    header = (("mp-replay", replayed.path.name.encode()),)
    for body, consumed in records(replayed.path, replayed.layout):
        parsed: Parsed | Ignored | None
        try:
            parsed = parse_body(replayed.source, body, parser)
        except InvalidRecord:
            parsed = None
        read = _Read(raw_record(replayed.source, body, parsed, header), replayed.path.name, parsed is None, consumed)
        yield event_time(parsed, zone_of), (index, read)


async def _publish(producer: AIOKafkaProducer, chunk: Sequence[_Read], report: ReplayReport) -> None:
    await send_all(producer, [read.record for read in chunk])
    for read in chunk:
        report.published[read.name] += 1
        report.invalid[read.name] += read.invalid
