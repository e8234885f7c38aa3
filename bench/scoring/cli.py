"""Scoring benchmark: sustained throughput, overhead over a bare consumer, latency, a million-member sweep.

The command line of ``python -m bench.scoring_throughput`` (the method is described there):
its flags, the printed table and the merged JSON (bench.service_bench.cli runs it and exits).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from bench.scoring.config import PHASES, RESULTS_PATH
from bench.scoring.results import merge_results, write_results
from bench.scoring.runner import run
from bench.scoring.table import render
from bench.service_bench import cli


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="canonical events pre-loaded for phase 1 (100,000)")
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="events/s offered in phase 3 (2,000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 3 offers them (20)")
    parser.add_argument("--sweep-members", type=int, default=1_000_000, help="members stored for phase 4 (1,000,000)")
    parser.add_argument("--sweep-batch", type=int, default=1_000, help="members per sweep batch (1,000, as scoring)")
    parser.add_argument("--skip", nargs="+", default=[], choices=PHASES, metavar="PHASE", help=f"of {PHASES}")
    parser.add_argument("--replicas", type=int, default=1, help="scoring processes in the group for phases 1 and 3 (1)")
    parser.add_argument("--keep", action="store_true", help="keep phases 1 and 3's rows (the sweep's never stay)")
    parser.add_argument("--profile", action="store_true", help="py-spy record scoring during phase 1")
    args = parser.parse_args(argv)
    positive = (
        args.events,
        args.latency_rate,
        args.latency_seconds,
        args.sweep_members,
        args.sweep_batch,
        args.replicas,
    )
    if min(positive) <= 0:
        parser.error("--events, --latency-*, --sweep-members, --sweep-batch and --replicas must be positive")
    if "throughput" in args.skip and "baseline" not in args.skip:
        args.skip += ["baseline", "domain"]  # both read phase 1's records
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main("scoring", "bench.scoring_throughput", argv, parse_args, run, report)


def report(sections: dict[str, Any], command: str, stamp: str) -> int:
    """This run's phases merged over the stored ones, printed and written; 1 if scoring lost an event."""
    previous = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    results = merge_results(previous, sections, command, stamp)
    print(render(results))
    code = results["runs"][stamp]["code"]
    print(f"\ncode measured: sources {code['sources_sha256']}, newest change {code['newest_change']}")
    return cli.conclude("scoring", sections, lambda: write_results(results), "FAILED: scoring lost {} event(s)")
