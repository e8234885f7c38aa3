"""What one harness run collects, and what is derived from it: ratios to ceilings, costs relative to the smallest.

Pure: the records are filled by the measuring modules and read by ``table`` and the JSON writer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ceiling:
    """The most this machine does of one kind of work with nothing of the services in the way."""

    key: str  # what service results name as their ceiling
    label: str
    rate: float | None  # per second
    unit: str  # "records/s", "rows/s", "calls/s"
    count: int
    seconds: float | None


@dataclass(frozen=True)
class ServiceResult:
    """One service alone (or the pipeline end to end), from its bench's JSON."""

    name: str
    throughput: float | None  # per second, sustained
    unit: str  # "events/s", "triggers/s", "sends/s", "records/s"
    ceiling: str  # Ceiling.key the throughput is compared with
    offered_rate: float | None = None  # of the latency phase, per second
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_s_per_1000: float | None = None
    peak_rss_mib: float | None = None
    own_baseline_rate: float | None = None  # the bench's own bare loop over the very same records
    lost: int | None = None
    exit_code: int | None = None
    source: str | None = None  # the bench's JSON file
    note: str = ""


@dataclass(frozen=True)
class ScalePoint:
    """Scoring's costs with ``members`` rows stored (scratch copy of its schema)."""

    members: int
    load_s: float  # to bulk-load the rows added at this step (and ANALYZE)
    apply_events: int
    apply_us_per_event: float | None  # median batch: inbox claim, handler, outbox append, commit
    due: int
    claim_ms: float | None  # scoring's due-member claim query (one batch), median of a few
    swept: int
    sweep_ms_per_1000_due: float | None  # Sweeper.sweep over the due members, whole


@dataclass
class Run:
    started_at: str
    options: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=dict)
    ceilings: list[Ceiling] = field(default_factory=list)
    services: list[ServiceResult] = field(default_factory=list)
    scale: list[ScalePoint] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float | None = None


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, or None when either is missing or the base is not positive."""
    if value is None or base is None or base <= 0:
        return None
    return value / base


def ceiling_of(run: Run, result: ServiceResult) -> Ceiling | None:
    return next((c for c in run.ceilings if c.key == result.ceiling), None)


def ratio_to_ceiling(run: Run, result: ServiceResult) -> float | None:
    ceiling = ceiling_of(run, result)
    return ratio(result.throughput, ceiling.rate if ceiling else None)


def relative_to_smallest(points: list[ScalePoint], cost: str) -> list[float | None]:
    """Each point's ``cost`` (a ScalePoint field) over the smallest member count's: 1.0 means no growth."""
    if not points:
        return []
    smallest = min(points, key=lambda p: p.members)
    base = getattr(smallest, cost)
    return [ratio(getattr(p, cost), base) for p in points]


def as_json(run: Run) -> dict[str, Any]:
    """The run as JSON, with every derived ratio beside the figures it comes from."""
    services = []
    for result in run.services:
        ceiling = ceiling_of(run, result)
        services.append(
            {
                **asdict(result),
                "ceiling_rate": ceiling.rate if ceiling else None,
                "ratio_to_ceiling": ratio_to_ceiling(run, result),
                "ratio_to_own_baseline": ratio(result.throughput, result.own_baseline_rate),
            }
        )
    scale = [asdict(p) for p in run.scale]
    for cost in ("apply_us_per_event", "claim_ms", "sweep_ms_per_1000_due"):
        for point, relative in zip(scale, relative_to_smallest(run.scale, cost), strict=True):
            point[f"{cost}_vs_smallest"] = relative
    return {
        "started_at": run.started_at,
        "seconds": run.seconds,
        "options": run.options,
        "machine": run.machine,
        "ceilings": [asdict(c) for c in run.ceilings],
        "services": services,
        "scale": scale,
        "warnings": run.warnings,
    }
