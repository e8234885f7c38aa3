"""One run of the benchmark: the phases asked for, in order, on one probe of the stack."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from functools import partial
from typing import Any

from bench.ingest_throughput import progress
from bench.scoring.cleanup import cleanup
from bench.scoring.domain_ceiling import measure_domain
from bench.scoring.history import Preloaded, preload
from bench.scoring.latency import measure_latency
from bench.scoring.process import running_scoring
from bench.scoring.stack import Bench, snapshot_activity
from bench.scoring.sweep import measure_sweep
from bench.scoring.throughput import measure_throughput
from bench.service_bench.drain import measure_baseline
from bench.service_bench.profiler import profilers
from bench.service_bench.runner import log_sections, machine, process_phases
from bench.service_bench.stack import move_group_to_end, preflight
from services.scoring.entrypoints.topology import CONSUMES
from shared.settings import Settings
from tools.kafka_probe import KafkaProbe


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    sections: dict[str, Any] = {}
    async with KafkaProbe(settings.kafka.bootstrap_servers) as probe:
        bench = Bench(
            settings=settings,
            probe=probe,
            inputs=await probe.partitions([spec.name for spec in CONSUMES]),
            args=args,
            stamp=stamp,
        )
        sections["machine"] = await machine(bench)
        try:
            if bench.runs("throughput") or bench.runs("latency"):
                await preflight(bench)
                await snapshot_activity(bench)
                await service_phases(bench, sections)
            if bench.runs("sweep"):
                figures = await measure_sweep(bench)
                if figures is not None:
                    sections["sweep"] = asdict(figures)
        finally:
            if not args.keep:
                await cleanup(bench)
            elif bench.prefixes:
                progress(f"--keep: rows of member ids {bench.prefixes} stay")
        sections["warnings"] = bench.warnings
        sections.update(log_sections(bench))
    return sections


async def service_phases(bench: Bench, sections: dict[str, Any]) -> None:
    """Phases 1-3: they share one scoring process."""
    loaded: Preloaded | None = None
    if bench.runs("throughput"):
        loaded = await preload(bench)
        if bench.runs("baseline"):
            sections["baseline"] = asdict(await measure_baseline(bench, loaded.run, loaded.ranges, "phase 2", ""))
        if bench.runs("domain"):
            batch = bench.settings.kafka.max_batch_records
            sections["domain"] = asdict(measure_domain(loaded.events, batch))
    else:
        await move_group_to_end(bench)
    profiler, latency_profiler = profilers(bench)
    async with running_scoring(bench) as processes:
        throughput = partial(measure_throughput, bench, loaded, processes, profiler) if loaded is not None else None
        latency = partial(measure_latency, bench, processes, latency_profiler)
        await process_phases(bench, processes[0], sections, throughput, latency, "events", "phase 3")
