"""Progress marks: a producer's promise, in the partition itself, that a stretch of event time is complete.

A consumer reading several partitions in event-time order (see alignment.py) can tell when a
partition that is behind may still deliver something older. It cannot tell that of a partition
it has read to the end: in live traffic the producer may simply not have got there yet. Scoring
is such a producer for campaigns: the state change a purchase causes reaches member.state.v1 a
moment after the purchase reaches member.purchase.v1, and without a mark campaigns would decide
on the purchase first in one run and second in the next.

So after each batch scoring writes one mark per partition it owns: "everything up to ``until``
is published before this record". Marks go through the outbox like any record, so they follow
the batch's records in the partition. A consumer treats them as part of the stream's clock and
hands none to its handler; a reader that only wants the topic's events skips them
(``is_progress_mark``). The key of partition p's mark is one the default partitioner sends to p,
so on a compacted topic one mark per partition is kept.

Ingest is a producer with several processes behind it: every raw partition feeds every member
partition, and each ingest replica owns some raw partitions. One replica's mark promises nothing
of the raw partitions another owns, so its marks name their **origins** (the raw partitions it
owns, "topic/partition") and the **universe** (every raw topic's partition count). A consumer
then bounds the partition by the least mark over all origins, and one it has not heard from
holds it back: a replica that died holds scoring back until its partitions' new owner has caught
up with them (see alignment.py), so what it had not yet published is not overtaken.

The record is a CloudEvent of type ``memberpulse.stream.progress.v1`` with JSON data
``{"until": <ISO-8601 UTC>, "partition": p}``, plus ``"origins": ["raw.chat.v1/0", ...]`` and
``"universe": {"raw.chat.v1": 12, ...}`` when it speaks for some of several origins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from aiokafka.partitioner import murmur2

from shared.contracts.envelope import KafkaRecord, cloudevent_headers, derived_event_id

PROGRESS_TYPE = "memberpulse.stream.progress.v1"
_TYPE_BYTES = PROGRESS_TYPE.encode()


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition the default partitioner (Kafka's murmur2) sends ``key`` to."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


@cache
def mark_key(partition: int, partitions: int) -> bytes:
    """A key that lands on ``partition`` of a topic with ``partitions`` partitions."""
    if not 0 <= partition < partitions:
        raise ValueError(f"partition {partition} is not one of {partitions}")
    for n in range(100_000):
        key = f"~progress/{partition}/{n}".encode()
        if partition_for_key(key, partitions) == partition:
            return key
    raise LookupError(f"no progress key found for partition {partition} of {partitions}")  # pragma: no cover


def origin_name(topic: str, partition: int) -> str:
    """How a mark names one input partition it speaks for."""
    return f"{topic}/{partition}"


def all_origins(universe: Mapping[str, int]) -> frozenset[str]:
    return frozenset(origin_name(topic, p) for topic, count in universe.items() for p in range(count))


@dataclass(frozen=True)
class Mark:
    """A read mark: ``until``, and for a producer of several processes, whom it speaks for."""

    until: datetime
    origins: tuple[str, ...] = ()  # empty: the partition's one producer
    expected: frozenset[str] = frozenset()  # every origin there is (from the universe)
    written_at: float | None = None  # when it was written (the record's timestamp), in Unix seconds


def progress_marks(
    topic: str,
    partitions: int,
    owned: Iterable[int],
    until: datetime,
    source: str,
    *,
    origins: Sequence[str] = (),
    universe: Mapping[str, int] | None = None,
) -> list[KafkaRecord]:
    """One mark per owned partition of ``topic``: everything up to ``until`` precedes it there.

    With ``origins``, only what came from those input partitions is promised (see the module doc).
    """
    when = until.astimezone(UTC).isoformat()
    named = sorted(origins)
    extra: dict[str, object] = {"origins": named, "universe": dict(sorted((universe or {}).items()))} if named else {}
    marks = []
    for partition in sorted(set(owned)):
        ce_id = derived_event_id("progress", topic, str(partition), when, *named)
        headers = cloudevent_headers(ce_id=ce_id, source=source, ce_type=PROGRESS_TYPE, time=until)
        value = json.dumps({"until": when, "partition": partition, **extra}).encode()
        marks.append(KafkaRecord(topic=topic, key=mark_key(partition, partitions), value=value, headers=headers))
    return marks


def is_progress_mark(headers: Iterable[tuple[str, bytes | None]] | None) -> bool:
    for name, value in headers or ():
        if name == "ce_type":
            return value == _TYPE_BYTES
    return False


def read_mark(value: bytes | None) -> Mark | None:
    """A mark's contents; None when the value is not a readable mark (it then marks nothing)."""
    try:
        data = json.loads(value or b"")
        until = datetime.fromisoformat(data["until"])
        origins = tuple(str(origin) for origin in data.get("origins", ()))
        universe = {str(topic): int(count) for topic, count in data.get("universe", {}).items()}
    except (ValueError, KeyError, TypeError, AttributeError):  # not JSON, not an object, a field not its type
        return None
    if until.tzinfo is None or not all(0 <= count <= 10_000 for count in universe.values()):
        return None
    return Mark(until, origins, all_origins(universe) if origins else frozenset())


def mark_until(value: bytes | None) -> datetime | None:
    """A mark's ``until``; None when the value is not a readable mark (it then marks nothing)."""
    mark = read_mark(value)
    return mark.until if mark is not None else None
