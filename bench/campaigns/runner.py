"""One run of the benchmark: the phases asked for, in order, on one probe of the stack."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.campaigns.backlog import Preloaded, preload
from bench.campaigns.config import TABLES
from bench.campaigns.definitions import bench_campaigns, write_folder
from bench.campaigns.latency import measure_latency
from bench.campaigns.process import running_campaigns
from bench.campaigns.roundtrips import measure_roundtrips
from bench.campaigns.stack import Bench, execute, leave_others_be, preflight, reset
from bench.campaigns.throughput import measure_baseline, measure_throughput
from bench.ingest_throughput import log_problems, progress
from bench.kafka_ops import KafkaProbe
from bench.report import machine_facts
from bench.scoring.profiler import Profiler
from services.campaigns.entrypoints.topology import CONSUMES
from shared.contracts.topics import OFFER_ISSUED
from shared.settings import Settings
from shared.stack.readiness import kafka_version, postgres_version


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    probe = KafkaProbe(settings.kafka.bootstrap_servers)
    await probe.start()
    sections: dict[str, Any] = {"command": command, "started_at": stamp}
    try:
        bench = Bench(
            settings=settings,
            probe=probe,
            inputs=await probe.partitions([spec.name for spec in CONSUMES]),
            offers=await probe.partitions([OFFER_ISSUED.name]),
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
                await execute(bench.dsn, f"TRUNCATE {', '.join(TABLES)}")
        sections["warnings"] = bench.warnings
        if (bench.log_dir / "campaigns.log").exists():
            sections["campaigns_log"] = str(bench.log_dir / "campaigns.log")
            sections["campaigns_log_problems"] = log_problems(bench.log_dir / "campaigns.log")
    finally:
        await probe.close()
    return sections


async def service_phases(bench: Bench, sections: dict[str, Any]) -> None:
    """Phases 1 and 2: they share one campaigns process, started on the bench's 50 campaigns."""
    with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as folder:
        write_folder(Path(folder), bench_campaigns())
        loaded: Preloaded | None = None
        if bench.runs("throughput"):
            loaded = await preload(bench)
            sections["baseline"] = asdict(await measure_baseline(bench, loaded))
        else:
            await reset(bench)
        profiler = Profiler.find(bench.log_dir / "campaigns-profile.txt") if bench.args.profile else None
        latency_profiler = (
            Profiler.find(bench.log_dir / "campaigns-profile-latency.txt") if bench.args.profile else None
        )
        if bench.args.profile and profiler is None:
            bench.warnings.append("--profile: py-spy not found (uv pip install py-spy)")
        async with running_campaigns(bench, Path(folder)) as process:
            if loaded is not None:
                throughput = await measure_throughput(bench, loaded, process, profiler)
                sections["throughput"] = asdict(throughput)
                progress(
                    f"phase 1: {throughput.rate_steady or 0:,.0f} triggers/s steady, "
                    f"{throughput.rate_with_startup or 0:,.0f} triggers/s from spawn; lost {throughput.lost}"
                )
            else:
                await process.ready
            if bench.runs("latency"):
                latency = await measure_latency(bench, process, latency_profiler)
                sections["latency"] = asdict(latency)
                progress(f"phase 2: p99 {latency.p99_ms or 0:,.0f} ms, lost {latency.lost}")
