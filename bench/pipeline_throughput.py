"""The four services end to end on a generated chain (``tools.simulate``), as ``make demo`` runs them.

Reports, per service, the records it finished and the seconds it was busy (sampling intervals in
which its committed offsets moved), the peak consumer lag, and the run's wall time, in
``out/bench/pipeline-<stamp>.json`` and as a Markdown table. The services share this machine's
cores with Kafka, Postgres and each other: the figures are of the whole pipeline at once, not of
one service alone (the per-service benchmarks measure that).

    python -m bench.pipeline_throughput --members 20000 --months 12 --seed 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from shared.settings import SERVICE_NAMES
from tools.demo.run import Options, run
from tools.demo.session import FACTS
from tools.services import REPO_ROOT

OUT_DIR = REPO_ROOT / "out" / "bench"


def figures(facts: dict[str, Any], wall_s: float) -> dict[str, Any]:
    samples = facts["throughput"]["samples"]
    return {
        "run": facts["run"],
        "wall_s": round(wall_s, 1),
        # From the first record handed to ingest to the pipeline at rest: what "end to end" means.
        "pipeline_s": round(samples[-1]["t_s"] - samples[0]["t_s"], 1) if len(samples) > 1 else None,
        "per_service": facts["throughput"]["per_service"],
        "peak_lag": {s: max((sample["lag"].get(s, 0) for sample in samples), default=0) for s in SERVICE_NAMES},
        "books": facts["accounting"],
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"pipeline on {result['run']['members']:,} members, {result['run']['months']} months "
        f"({result['run']['records_published']:,} upstream records), {result['machine']['cpu_count']} cores; "
        f"whole run {result['wall_s']:.0f} s",
        "",
        "| service | records | busy s | records/s | peak lag |",
        "|---|---:|---:|---:|---:|",
    ]
    for service, figure in result["per_service"].items():
        lines.append(
            f"| {service} | {figure['records']:,} | {figure['seconds']:,.1f} | {figure['per_s']:,.0f} "
            f"| {result['peak_lag'][service]:,} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    today = datetime.now(UTC)
    end = datetime(today.year, today.month, today.day, tzinfo=UTC)
    began = time.monotonic()
    code = asyncio.run(run(Options(args.members, args.months, args.seed, end), Console()))
    if not FACTS.exists():
        print("the run wrote no facts: see its output above")
        return 1
    result = figures(json.loads(FACTS.read_text()), time.monotonic() - began)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"pipeline-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    print(table(result))
    print(f"\nwritten: {Path(path).relative_to(REPO_ROOT)}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
