"""Scoring benchmark: sustained throughput, overhead over a bare consumer, latency, a million-member sweep.

The command line of ``python -m bench.scoring_throughput`` (the method is described there):
its flags, the run, the printed table and the merged JSON, and the exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from bench.scoring.config import PHASES, RESULTS_PATH
from bench.scoring.process import ScoringFailed
from bench.scoring.results import merge_results, write_results
from bench.scoring.runner import run
from bench.scoring.stack import BenchAborted
from bench.scoring.table import render


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="canonical events pre-loaded for phase 1 (100,000)")
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="events/s offered in phase 3 (2,000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 3 offers them (20)")
    parser.add_argument("--sweep-members", type=int, default=1_000_000, help="members stored for phase 4 (1,000,000)")
    parser.add_argument("--sweep-batch", type=int, default=1_000, help="members per sweep batch (1,000, as scoring)")
    parser.add_argument("--skip", nargs="+", default=[], choices=PHASES, metavar="PHASE", help=f"of {PHASES}")
    parser.add_argument("--keep", action="store_true", help="keep phases 1 and 3's rows (the sweep's never stay)")
    parser.add_argument("--profile", action="store_true", help="py-spy record scoring during phase 1")
    args = parser.parse_args(argv)
    positive = (args.events, args.latency_rate, args.latency_seconds, args.sweep_members, args.sweep_batch)
    if min(positive) <= 0:
        parser.error("--events, --latency-*, --sweep-members and --sweep-batch must be positive")
    if "throughput" in args.skip and "baseline" not in args.skip:
        args.skip.append("baseline")  # the baseline reads phase 1's records
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    command = shlex.join(["python", "-m", "bench.scoring_throughput", *argv])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        sections = asyncio.run(run(args, command, stamp))
    except BenchAborted as exc:
        print(f"scoring benchmark not run: {exc}", file=sys.stderr)
        return 2
    except ScoringFailed as exc:
        print(f"scoring benchmark failed: {exc}", file=sys.stderr)
        return 2
    previous = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    results = merge_results(previous, sections, command, stamp)
    print(render(results))
    code = results["runs"][stamp]["code"]
    print(f"\ncode measured: sources {code['sources_sha256']}, newest change {code['newest_change']}")
    for warning in sections.get("warnings", []):
        print(f"WARNING: {warning}")
    for problem, count in list(sections.get("scoring_log_problems", {}).items())[:8]:
        print(f"scoring log: {count:>6,} × {problem}")
    print(f"\nresults: {write_results(results)}")
    lost = sum(sections.get(p, {}).get("lost", 0) for p in ("throughput", "latency"))
    if lost:
        print(f"FAILED: scoring lost {lost} event(s)", file=sys.stderr)
        return 1
    return 0
