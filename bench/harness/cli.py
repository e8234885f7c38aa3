"""``python -m bench.harness [--quick] [--skip PART ...] [--stop-demo]``: every benchmark, one table.

Runs against the local stack (``make up``), in this order: the ceilings, each service's own bench
(ingest, scoring, campaigns, notifier, each as a subprocess), the scale phase, then the pipeline
(last: the demo it runs leaves its services running, and the harness stops them again). Writes
``bench/results/latest.json`` and ``latest.md`` and prints the table. Exit 0 when every part gave
figures and nothing was lost, 1 otherwise.

The service benches refuse to run beside a running copy of their service: when service processes
are running, those parts are reported as not run (the ceilings and the scale phase still are).
``--stop-demo`` first stops a demo left running, by its pid files, as ``make down`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime

from bench.harness.ceilings_kafka import CONSUME, CONSUME_PRODUCE, kafka_ceilings
from bench.harness.ceilings_postgres import postgres_ceilings
from bench.harness.config import FULL, LATEST_JSON, LATEST_MD, PARTS, QUICK, Sizes
from bench.harness.model import Run, as_json
from bench.harness.pipeline import pipeline_results, sampling_services
from bench.harness.scale import measure_scale
from bench.harness.scratch import scratch_pool
from bench.harness.services import SINK, consumer_result, failed, ingest_result, notifier_result, sink_ceiling
from bench.harness.subbench import SubRun, run_bench
from bench.harness.table import render
from bench.ingest_throughput import progress, stack_machine_facts
from shared.settings import SERVICE_NAMES, Settings
from tools.demo import processes
from tools.services import service_pids

SERVICE_BENCHES = {
    "ingest": ("bench.ingest_throughput", "events/s", CONSUME_PRODUCE),
    "scoring": ("bench.scoring_throughput", "events/s", CONSUME),
    "campaigns": ("bench.campaigns_throughput", "triggers/s", CONSUME),
    "notifier": ("bench.notifier_throughput", "sends/s", SINK),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.harness", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, no 10M step: a few minutes")
    parser.add_argument("--skip", nargs="+", default=[], choices=PARTS, metavar="PART", help=f"of {PARTS}")
    parser.add_argument("--stop-demo", action="store_true", help="stop a demo left running first (as make down)")
    return parser.parse_args(argv)


def services_in_the_way(stop_demo: bool) -> str | None:
    """Why the service and pipeline benches cannot run now (service processes share their groups), or None.

    With ``stop_demo``, a demo's processes are stopped first, by their pid files, as ``make down`` does.
    """
    if stop_demo:
        progress(f"--stop-demo: stopping the demo's processes {processes.stop_all() or '(none)'}")
    running = {name: pids for name in SERVICE_NAMES if (pids := service_pids(f"services.{name}"))}
    if not running:
        return None
    return (
        f"service processes are running ({running}); the service benches need their consumer groups to"
        " themselves: stop them (a demo's with --stop-demo or `make down`) and run again"
    )


async def service_part(run: Run, name: str, args: tuple[str, ...], stamp: str) -> SubRun:
    module, unit, ceiling = SERVICE_BENCHES[name]
    sub = await run_bench(name, module, args, stamp)
    figures = sub.figures()
    if figures is None:
        run.services.append(failed(name, unit, ceiling, sub.exit_code, f"no figures, exit {sub.exit_code}"))
        run.warnings.append(f"{name}: {sub.command} exited {sub.exit_code}; see {sub.output_path}")
        return sub
    if name == "ingest":
        result = ingest_result(figures)
    elif name == "notifier":
        result = notifier_result(figures)
        if (sink := sink_ceiling(figures)) is not None:
            run.ceilings.append(sink)
    else:
        result = consumer_result(name, unit.removesuffix("/s"), figures)
    run.services.append(replace(result, exit_code=sub.exit_code, source=str(sub.results_path)))
    if sub.exit_code:
        run.warnings.append(f"{name}: {sub.command} exited {sub.exit_code} (lost {result.lost}); see {sub.output_path}")
    return sub


async def pipeline_part(run: Run, args: tuple[str, ...], stamp: str) -> None:
    async with sampling_services() as usage:
        sub = await run_bench("pipeline", "bench.pipeline_throughput", args, stamp, echo_stdout=True)
    stopped = processes.stop_all()  # the demo leaves its services running; the harness started them
    progress(f"pipeline: stopped the demo's processes {stopped}")
    figures = sub.figures()
    if figures is None:
        run.services.append(failed("pipeline end to end", "records/s", CONSUME, sub.exit_code, "no figures"))
        run.warnings.append(f"pipeline: {sub.command} exited {sub.exit_code}; see {sub.output_path}")
        return
    run.services += pipeline_results(figures, usage)
    if sub.exit_code:
        run.warnings.append(f"pipeline: {sub.command} exited {sub.exit_code} (books not balanced?)")


async def measure(run: Run, sizes: Sizes, skip: Sequence[str], stamp: str, *, stop_demo: bool) -> None:
    settings = Settings()
    run.machine = asdict(await stack_machine_facts(settings, "scoring"))
    batch = settings.kafka.max_batch_records
    if "ceilings" not in skip:
        run.ceilings += await kafka_ceilings(settings, sizes.kafka_records)
        async with scratch_pool(settings) as pool:
            run.ceilings += await postgres_ceilings(pool, sizes.postgres_rows, batch)
    blocked = services_in_the_way(stop_demo) if {*SERVICE_BENCHES, "pipeline"} - set(skip) else None
    if blocked:
        run.warnings.append(f"service and pipeline benches not run: {blocked}")
    for name, (_, unit, ceiling) in SERVICE_BENCHES.items():
        if name not in skip:
            if blocked:
                run.services.append(failed(name, unit, ceiling, 2, "not run: service processes running"))
            else:
                await service_part(run, name, getattr(sizes, f"{name}_args"), stamp)
    if "scale" not in skip:
        async with scratch_pool(settings) as pool:
            run.scale = await measure_scale(
                pool, sizes.member_counts, sizes.due_members, sizes.apply_batches, sizes.apply_batch_size
            )
    if "pipeline" not in skip:
        if blocked:
            run.services.append(failed("pipeline end to end", "records/s", CONSUME, 2, "not run"))
        else:
            await pipeline_part(run, sizes.pipeline_args, stamp)


def write(run: Run) -> str:
    table = render(run)
    LATEST_JSON.parent.mkdir(parents=True, exist_ok=True)
    LATEST_JSON.write_text(json.dumps(as_json(run), indent=2, ensure_ascii=False, default=str) + "\n")
    LATEST_MD.write_text(table + "\n")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    sizes = QUICK if args.quick else FULL
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run = Run(started_at=stamp, options={"mode": "quick" if args.quick else "full", "skip": args.skip, **asdict(sizes)})
    began = time.perf_counter()
    asyncio.run(measure(run, sizes, args.skip, stamp, stop_demo=args.stop_demo))
    run.seconds = time.perf_counter() - began
    print(write(run))
    print(f"\nresults: {LATEST_JSON}\n         {LATEST_MD}")
    failures = [r.name for r in run.services if r.throughput is None or r.lost or r.exit_code]
    return 1 if failures or run.warnings else 0
