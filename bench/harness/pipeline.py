"""The pipeline end to end: ``bench.pipeline_throughput`` (the demo's chain through the four services).

That bench reports records and busy seconds per service; the harness adds what it does not record,
each service process's CPU-seconds and peak RSS, by sampling /proc (``bench.rss``) for every
``python -m services.<name>`` process that appears while it runs (the demo starts them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bench.harness.ceilings_kafka import CONSUME, CONSUME_PRODUCE
from bench.harness.model import ServiceResult
from bench.rss import ProcessSampler
from shared.settings import SERVICE_NAMES
from tools.services import service_pids


@dataclass
class ServiceUsage:
    """CPU-seconds and peak RSS per service, over every process of it seen during the run."""

    samplers: dict[int, tuple[str, ProcessSampler]] = field(default_factory=dict)

    def cpu_s(self, service: str) -> float | None:
        spent = [w.cpu_s for w in self._windows(service)]
        return sum(spent) if spent else None

    def peak_rss_mib(self, service: str) -> float | None:
        peaks = [w.rss_peak_mib for w in self._windows(service)]
        return max(peaks) if peaks else None

    def _windows(self, service: str) -> list[Any]:
        windows = [s.window(0.0, float("inf")) for name, s in self.samplers.values() if name == service]
        return [w for w in windows if w is not None]


@contextlib.asynccontextmanager
async def sampling_services(every_s: float = 1.0) -> AsyncIterator[ServiceUsage]:
    usage = ServiceUsage()

    async def watch() -> None:
        while True:
            for name in SERVICE_NAMES:
                for pid in service_pids(f"services.{name}"):
                    if pid not in usage.samplers:
                        sampler = ProcessSampler(pid, every_s)
                        sampler.start()
                        usage.samplers[pid] = (name, sampler)
            await asyncio.sleep(every_s)

    task = asyncio.create_task(watch(), name="pipeline-pids")
    try:
        yield usage
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for _, sampler in usage.samplers.values():
            sampler.mark()
            await sampler.stop()


def pipeline_results(figures: dict[str, Any], usage: ServiceUsage) -> list[ServiceResult]:
    """One row per stage (records/s while busy), and the whole: upstream records over the time from the first
    one handed over to the pipeline at rest, with the CPU and RSS of all four services."""
    published = int(figures["run"]["records_published"])
    rows = []
    for name in SERVICE_NAMES:
        stage = figures["per_service"].get(name) or {}
        records, cpu = stage.get("records") or 0, usage.cpu_s(name)
        rows.append(
            ServiceResult(
                name=f"pipeline: {name}",
                throughput=stage.get("per_s") or None,
                unit="records/s",
                ceiling=CONSUME_PRODUCE if name == "ingest" else CONSUME,
                cpu_s_per_1000=1000 * cpu / records if cpu is not None and records else None,
                peak_rss_mib=usage.peak_rss_mib(name),
                note="busy-time rate",
            )
        )
    span = figures.get("pipeline_s")
    spent = [usage.cpu_s(name) for name in SERVICE_NAMES]
    total_cpu = sum(s for s in spent if s is not None) if any(s is not None for s in spent) else None
    peaks = [usage.peak_rss_mib(name) for name in SERVICE_NAMES]
    whole = ServiceResult(
        name="pipeline end to end",
        throughput=published / span if span else None,
        unit="records/s",
        ceiling=CONSUME,
        cpu_s_per_1000=1000 * total_cpu / published if total_cpu is not None and published else None,
        peak_rss_mib=sum(p for p in peaks if p is not None) if any(p is not None for p in peaks) else None,
        note=f"{published:,} upstream records, first in to at rest; CPU and RSS of all four services",
    )
    return [whole, *rows]
