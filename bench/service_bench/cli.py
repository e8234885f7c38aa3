"""The command line the service benches share: the run, its exit codes, the notes printed after the table.

Exit 2 if the run could not start or the service failed; otherwise what the bench's ``report`` says
(1 if something was lost).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.service_bench.process import ServiceFailed
from bench.service_bench.results import lost
from bench.service_bench.stack import BenchAborted

Results = dict[str, Any]
Run = Callable[[argparse.Namespace, str, str], Coroutine[Any, Any, Results]]


def main(
    service: str,
    module: str,
    argv: Sequence[str] | None,
    parse_args: Callable[[Sequence[str]], argparse.Namespace],
    run: Run,
    report: Callable[[Results, str, str], int],
) -> int:
    """``python -m <module> ...``: ``run(args, command, stamp)``, then ``report(results, command, stamp)``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    command = shlex.join(["python", "-m", module, *argv])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        results = asyncio.run(run(args, command, stamp))
    except BenchAborted as exc:
        print(f"{service} benchmark not run: {exc}", file=sys.stderr)
        return 2
    except ServiceFailed as exc:
        print(f"{service} benchmark failed: {exc}", file=sys.stderr)
        return 2
    return report(results, command, stamp)


def conclude(service: str, results: Results, write: Callable[[], Path], failure: str) -> int:
    """After the table: warnings, the service's first logged problems, ``write()``'s file; 1 if something was lost.

    ``failure`` is the message for that case, with ``{}`` for how many were lost.
    """
    for warning in results.get("warnings", []):
        print(f"WARNING: {warning}")
    for problem, count in list(results.get(f"{service}_log_problems", {}).items())[:8]:
        print(f"{service} log: {count:>6,} × {problem}")
    print(f"\nresults: {write()}")
    if missing := lost(results):
        print(failure.format(missing), file=sys.stderr)
        return 1
    return 0
