"""Each service alone: its bench's JSON read into a ``ServiceResult`` (pure, one reader per bench's shape).

Sustained throughput is each bench's steady rate (ingest: outputs over first → last output); CPU
per 1,000 is the service process's own CPU-seconds (from /proc, ``bench.rss``); peak RSS the
largest sample over the backlog and latency phases.
"""

from __future__ import annotations

from typing import Any

from bench.harness.ceilings_kafka import CONSUME, CONSUME_PRODUCE
from bench.harness.model import Ceiling, ServiceResult

SINK = "http_sink"


def _peak_rss(*windows: dict[str, Any] | None) -> float | None:
    peaks = [w["rss_peak_mib"] for w in windows if w]
    return max(peaks) if peaks else None


def _latency(section: dict[str, Any] | None) -> dict[str, Any]:
    s = section or {}
    return {"offered_rate": s.get("offered_rate"), "p50_ms": s.get("p50_ms"), "p99_ms": s.get("p99_ms")}


def _lost(*sections: dict[str, Any] | None) -> int:
    return sum(int((s or {}).get("lost") or 0) for s in sections)


def ingest_result(figures: dict[str, Any]) -> ServiceResult:
    t, lat = figures.get("throughput") or {}, figures.get("latency")
    window = t.get("process")
    events = t.get("events") or 0
    cpu = 1000 * window["cpu_s"] / events if window and events else None
    return ServiceResult(
        name="ingest",
        throughput=t.get("output_rate"),
        unit="events/s",
        ceiling=CONSUME_PRODUCE,
        **_latency(lat),
        cpu_s_per_1000=cpu,
        peak_rss_mib=_peak_rss(window, (lat or {}).get("process")),
        own_baseline_rate=(figures.get("baseline") or {}).get("rate"),
        lost=_lost(t, lat),
    )


def consumer_result(name: str, unit: str, figures: dict[str, Any]) -> ServiceResult:
    """Scoring's and campaigns' benches (``bench.service_bench``) record alike; only the unit differs."""
    t, lat = figures.get("throughput") or {}, figures.get("latency")
    return ServiceResult(
        name=name,
        throughput=t.get("rate_steady"),
        unit=f"{unit}/s",
        ceiling=CONSUME,
        **_latency(lat),
        cpu_s_per_1000=t.get(f"cpu_s_per_1000_{unit}"),
        peak_rss_mib=_peak_rss(t.get("process"), (lat or {}).get("process")),
        own_baseline_rate=(figures.get("baseline") or {}).get("rate"),
        lost=_lost(t, lat),
    )


def notifier_result(figures: dict[str, Any]) -> ServiceResult:
    """Notifier's ceiling is the provider it calls: its bench's bare HTTP loop to the same sink."""
    t, lat = figures.get("throughput") or {}, figures.get("latency")
    return ServiceResult(
        name="notifier",
        throughput=t.get("sends_per_s"),
        unit="sends/s",
        ceiling=SINK,
        **_latency(lat),
        cpu_s_per_1000=t.get("cpu_s_per_1000_sends"),
        peak_rss_mib=_peak_rss(t.get("process"), (lat or {}).get("process")),
        lost=_lost(t, lat),
    )


def sink_ceiling(figures: dict[str, Any]) -> Ceiling | None:
    c = figures.get("ceiling")
    if not c:
        return None
    label = f"HTTP: bare asyncio loop to the provider sink, {c['concurrency']} connections (notifier's bench)"
    return Ceiling(SINK, label, c.get("sink_rate"), "calls/s", c.get("calls", 0), None)


def failed(name: str, unit: str, ceiling: str, exit_code: int, why: str) -> ServiceResult:
    """A service whose bench did not produce figures: a row of n/a, with the reason."""
    return ServiceResult(name=name, throughput=None, unit=unit, ceiling=ceiling, exit_code=exit_code, note=why)
