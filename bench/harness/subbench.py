"""One existing bench as a subprocess: its progress streamed to ours, its table kept, its JSON file found.

Each bench prints where it wrote its figures as its last ``results: <path>`` (ingest, scoring,
campaigns, notifier) or ``written: <path>`` (pipeline) line; the harness reads that file rather
than parsing tables.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness.config import RESULTS_DIR
from bench.ingest_throughput import progress
from tools.services import REPO_ROOT

MARKERS = ("results: ", "written: ")


@dataclass(frozen=True)
class SubRun:
    module: str
    args: tuple[str, ...]
    exit_code: int
    seconds: float
    results_path: Path | None
    output_path: Path

    @property
    def command(self) -> str:
        return " ".join(["python", "-m", self.module, *self.args])

    def figures(self) -> dict[str, Any] | None:
        if self.results_path is None or not self.results_path.exists():
            return None
        loaded: dict[str, Any] = json.loads(self.results_path.read_text())
        return loaded


def results_path(stdout: str) -> Path | None:
    """The file the bench named last on a ``results:``/``written:`` line, relative to the repository."""
    for line in reversed(stdout.splitlines()):
        for marker in MARKERS:
            if line.startswith(marker):
                path = Path(line.removeprefix(marker).strip())
                return path if path.is_absolute() else REPO_ROOT / path
    return None


async def _relay(stream: asyncio.StreamReader, prefix: str, *, echo: bool) -> str:
    """A bench's output, kept; with ``echo``, also written to our stderr as progress, prefixed with its name."""
    lines = []
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        lines.append(text)
        if echo:
            print(f"{prefix} {text}", file=sys.stderr, flush=True)
    return "\n".join(lines)


async def run_bench(name: str, module: str, args: tuple[str, ...], stamp: str, *, echo_stdout: bool = False) -> SubRun:
    """``python -m module args``; its stderr (the benches' progress lines) is relayed, its stdout kept.

    ``echo_stdout`` relays stdout too: the pipeline bench reports its progress there.
    """
    progress(f"{name}: python -m {module} {' '.join(args)}")
    output_path = RESULTS_DIR / f"harness-{stamp}" / f"{name}.out"
    output_path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    prefix = f"  [{name}]"
    stdout, _ = await asyncio.gather(
        _relay(process.stdout, prefix, echo=echo_stdout), _relay(process.stderr, prefix, echo=True)
    )
    code = await process.wait()
    output_path.write_text(stdout)
    seconds = time.perf_counter() - began
    progress(f"{name}: exit {code} after {seconds:.0f} s; its table: {output_path.relative_to(REPO_ROOT)}")
    return SubRun(module, args, code, seconds, results_path(stdout), output_path)
