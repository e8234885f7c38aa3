"""The command line of ``python -m bench.campaigns_throughput`` (the method is described there)."""

# The docstring is --help's description. Here: the flags, the printed table and the JSON file;
# bench.service_bench.cli runs the phases and turns failures into exit codes.

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bench.campaigns.config import PHASES
from bench.campaigns.results import write_results
from bench.campaigns.runner import run
from bench.campaigns.table import render
from bench.service_bench import cli


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.campaigns_throughput", description=__doc__)
    parser.add_argument("--members", type=int, default=20_000, help="members of phase 1's backlog (20,000)")
    parser.add_argument("--events", type=int, default=100_000, help="triggers pre-loaded for phase 1 (100,000)")
    parser.add_argument("--latency-rate", type=float, default=2_000.0, help="triggers/s offered in phase 2 (2,000)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 2 offers them (20)")
    parser.add_argument("--roundtrip-campaigns", type=int, nargs="+", default=[10, 50], help="phase 3 (10 50)")
    parser.add_argument("--roundtrip-members", type=int, nargs="+", default=[1_000, 100_000], help="(1000 100000)")
    parser.add_argument("--roundtrip-batches", type=int, nargs="+", default=[100, 500], help="batch sizes (100 500)")
    parser.add_argument("--skip", nargs="+", default=[], choices=PHASES, metavar="PHASE", help=f"of {PHASES}")
    parser.add_argument("--keep", action="store_true", help="leave campaigns' tables as phases 1-2 left them")
    parser.add_argument("--profile", action="store_true", help="py-spy record campaigns in phases 1 and 2")
    parser.add_argument("--profile-seconds", type=float, default=20.0, help="from phase 1's first batch (20)")
    args = parser.parse_args(argv)
    positive = (args.members, args.events, args.latency_rate, args.latency_seconds, args.profile_seconds)
    sizes = (*args.roundtrip_members, *args.roundtrip_batches)
    if min(positive) <= 0 or min(sizes) <= 0 or args.events < args.members:
        parser.error("counts, rates and durations must be positive, and --events at least --members")
    if not all(1 <= c <= 50 for c in args.roundtrip_campaigns):
        parser.error("--roundtrip-campaigns: between 1 and 50 (the bench defines 50)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main("campaigns", "bench.campaigns_throughput", argv, parse_args, run, report)


def report(results: dict[str, Any], command: str, stamp: str) -> int:
    """The run's table printed and its figures written; 1 if a trigger occurrence went without a decision or offer."""
    print(render(results))
    failure = "FAILED: {} trigger occurrence(s) without a decision or offer"
    return cli.conclude("campaigns", results, lambda: write_results(results, stamp), failure)
