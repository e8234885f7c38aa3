"""One run of the benchmark: the phases asked for, in order, on one probe of the stack."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from bench.campaigns.backlog import Preloaded, preload
from bench.campaigns.definitions import bench_campaigns, write_folder
from bench.campaigns.latency import measure_latency
from bench.campaigns.process import running_campaigns
from bench.campaigns.roundtrips import measure_roundtrips
from bench.campaigns.stack import Bench, leave_others_be, reset
from bench.campaigns.throughput import measure_throughput
from bench.ingest_throughput import progress
from bench.service_bench.drain import measure_baseline
from bench.service_bench.profiler import profilers
from bench.service_bench.runner import log_sections, machine, process_phases
from bench.service_bench.stack import empty_service_tables, preflight
from services.campaigns.entrypoints.topology import CONSUMES
from shared.contracts.topics import OFFER_ISSUED
from shared.settings import Settings
from tools.kafka_probe import KafkaProbe


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    sections: dict[str, Any] = {"command": command, "started_at": stamp}
    async with KafkaProbe(settings.kafka.bootstrap_servers) as probe:
        bench = Bench(
            settings=settings,
            probe=probe,
            inputs=await probe.partitions([spec.name for spec in CONSUMES]),
            offers=await probe.partitions([OFFER_ISSUED.name]),
            args=args,
            stamp=stamp,
        )
        sections["machine"] = await machine(bench)
        await preflight(bench)
        service = bench.runs("throughput") or bench.runs("latency")
        try:
            if service:
                await service_phases(bench, sections)
            if bench.runs("roundtrips"):
                sections["roundtrips"] = [asdict(f) for f in await measure_roundtrips(bench)]
        finally:
            await leave_others_be(bench)
            if service and not args.keep:
                progress("emptying campaigns' tables again (the bench's 50 campaigns must not stay active)…")
                await empty_service_tables(bench.dsn, "campaigns")
        sections["warnings"] = bench.warnings
        sections.update(log_sections(bench))
    return sections


async def service_phases(bench: Bench, sections: dict[str, Any]) -> None:
    """Phases 1 and 2: they share one campaigns process, started on the bench's 50 campaigns."""
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as folder:
        write_folder(Path(folder), bench_campaigns())
        loaded: Preloaded | None = None
        if bench.runs("throughput"):
            loaded = await preload(bench)
            sections["baseline"] = asdict(
                await measure_baseline(bench, loaded.run, loaded.ranges, "phase 1", "bare loop ")
            )
        else:
            await reset(bench)
        profiler, latency_profiler = profilers(bench)
        async with running_campaigns(bench, Path(folder)) as process:
            throughput = partial(measure_throughput, bench, loaded, process, profiler) if loaded is not None else None
            latency = partial(measure_latency, bench, process, latency_profiler)
            await process_phases(bench, process, sections, throughput, latency, "triggers", "phase 2")
