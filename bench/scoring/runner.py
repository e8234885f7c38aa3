"""One run of the benchmark: the phases asked for, in order, on one probe of the stack."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from bench.ingest_throughput import log_problems, progress
from bench.kafka_ops import (
    KafkaProbe,
)
from bench.report import machine_facts
from bench.scoring.cleanup import cleanup
from bench.scoring.history import Preloaded, preload
from bench.scoring.latency import measure_latency
from bench.scoring.process import running_scoring
from bench.scoring.profiler import Profiler
from bench.scoring.stack import Bench, move_group_to_end, preflight, snapshot_activity
from bench.scoring.sweep import measure_sweep
from bench.scoring.throughput import measure_baseline, measure_throughput
from services.scoring.entrypoints.topology import CONSUMES
from shared.settings import Settings
from shared.stack.readiness import kafka_version, postgres_version


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    probe = KafkaProbe(settings.kafka.bootstrap_servers)
    await probe.start()
    sections: dict[str, Any] = {}
    try:
        bench = Bench(
            settings=settings,
            probe=probe,
            inputs=await probe.partitions([spec.name for spec in CONSUMES]),
            args=args,
            stamp=stamp,
        )
        machine = machine_facts(
            settings.kafka.bootstrap_servers,
            await kafka_version(settings.kafka.bootstrap_servers),
            await postgres_version(bench.dsn),
            f"{settings.pg.host}:{settings.pg.port}",
        )
        sections["machine"] = asdict(machine)
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
        if bench.log_dir.exists():
            sections["scoring_log"] = str(bench.log_dir / "scoring.log")
            sections["scoring_log_problems"] = log_problems(bench.log_dir / "scoring.log")
    finally:
        await probe.close()
    return sections


async def service_phases(bench: Bench, sections: dict[str, Any]) -> None:
    """Phases 1-3: they share one scoring process."""
    loaded: Preloaded | None = None
    if bench.runs("throughput"):
        loaded = await preload(bench)
        if bench.runs("baseline"):
            sections["baseline"] = asdict(await measure_baseline(bench, loaded))
    else:
        await move_group_to_end(bench)
    profiler = Profiler.find(bench.log_dir / "scoring-profile.txt") if bench.args.profile else None
    latency_profiler = Profiler.find(bench.log_dir / "scoring-profile-latency.txt") if bench.args.profile else None
    if bench.args.profile and profiler is None:
        bench.warnings.append("--profile: py-spy not found (uv pip install py-spy)")
    async with running_scoring(bench) as scoring:
        if loaded is not None:
            throughput = await measure_throughput(bench, loaded, scoring, profiler)
            sections["throughput"] = asdict(throughput)
            progress(
                f"phase 1: {throughput.rate_steady or 0:,.0f} events/s steady, "
                f"{throughput.rate_with_startup or 0:,.0f} events/s from spawn; lost {throughput.lost}"
            )
        else:
            await scoring.ready
        if bench.runs("latency"):
            latency = await measure_latency(bench, scoring, latency_profiler)
            sections["latency"] = asdict(latency)
            progress(f"phase 3: p99 {latency.p99_ms or 0:,.0f} ms, lost {latency.lost}")
