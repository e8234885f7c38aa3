"""What both benches record alike: the bare loop's figures, and how latencies become delays and percentiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.ingest_throughput import percentiles


@dataclass(frozen=True)
class BaselineFigures:
    records: int
    seconds: float
    rate: float


def delays_ms(sent: Mapping[str, float], seen: Mapping[str, float]) -> list[float]:
    """Sorted ms from each ref's send to when it was seen (same clock), for the refs seen."""
    return sorted(1000 * (seen[ref] - at) for ref, at in sent.items() if ref in seen)


def cuts(values: Sequence[float], prefix: str = "") -> dict[str, float | None]:
    """p50/p95/p99/max of ``values`` (``bench.ingest_throughput.percentiles``), keyed ``<prefix>p50_ms``…"""
    return {f"{prefix}{key}": value for key, value in percentiles(values).items()}
