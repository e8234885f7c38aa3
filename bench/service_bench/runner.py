"""What every run of a service bench records around its phases: the machine, the service's log, the progress lines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bench.ingest_throughput import log_problems, progress, stack_machine_facts
from bench.service_bench.process import ServiceProcess
from bench.service_bench.stack import ServiceBench

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Measure = Callable[[], Awaitable["DataclassInstance"]]


async def machine(bench: ServiceBench) -> dict[str, Any]:
    """The machine and stack the figures are of, as ingest's bench records them (Postgres asked as the service)."""
    return asdict(await stack_machine_facts(bench.settings, bench.spec.name))


def log_sections(bench: ServiceBench) -> dict[str, Any]:
    """The service's log and the problems it logged, when the run started the service."""
    log = bench.log_dir / f"{bench.spec.name}.log"
    if not log.exists():
        return {}
    return {f"{bench.spec.name}_log": str(log), f"{bench.spec.name}_log_problems": log_problems(log)}


async def process_phases(
    bench: ServiceBench,
    process: ServiceProcess,
    sections: dict[str, Any],
    throughput: Measure | None,
    latency: Measure,
    unit: str,
    latency_phase: str,
) -> None:
    """The phases one process serves: the backlog drain (if one was loaded), then latency (unless skipped)."""
    if throughput is not None:
        t = sections["throughput"] = asdict(await throughput())
        progress(
            f"phase 1: {t['rate_steady'] or 0:,.0f} {unit}/s steady, "
            f"{t['rate_with_startup'] or 0:,.0f} {unit}/s from spawn; lost {t['lost']}"
        )
    else:
        await process.ready
    if bench.runs("latency"):
        lat = sections["latency"] = asdict(await latency())
        progress(f"{latency_phase}: p99 {lat['p99_ms'] or 0:,.0f} ms, lost {lat['lost']}")
