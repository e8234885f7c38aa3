"""Optional py-spy profiling of the service under test (``--profile``), and the summary of where its samples fall."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.service_bench.stack import ServiceBench


class Profiler:
    """py-spy ``record`` of the service's process (raw collapsed stacks, idle samples kept), summarised."""

    IDLE_LEAVES = ("select (selectors.py", "epoll", "_run_once (asyncio/base_events.py")

    def __init__(self, executable: str, output: Path) -> None:
        self.executable = executable
        self.output = output
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def find(cls, output: Path) -> Profiler | None:
        venv_bin = Path(sys.executable).parent / "py-spy"
        found = shutil.which("py-spy") or (str(venv_bin) if venv_bin.exists() else None)
        return cls(found, output) if found else None

    def start(self, pid: int) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        command = [self.executable, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--idle"]
        command += ["--nonblocking", "--output", str(self.output)]
        self._process = subprocess.Popen(  # noqa: S603 - our own py-spy, our own child
            command, stdout=subprocess.DEVNULL, stderr=(self.output.with_suffix(".log")).open("wb")
        )

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def summary(self, top: int = 25) -> dict[str, Any] | None:
        """Samples by leaf function (self) and by any function on the stack (inclusive), idle apart."""
        if not self.output.exists():
            return None
        own: Counter[str] = Counter()
        inclusive: Counter[str] = Counter()
        total = idle = 0
        for line in self.output.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [_frame_name(frame) for frame in stack.split(";")]
            total += count
            if any(leaf in stack.rsplit(";", 1)[-1] for leaf in self.IDLE_LEAVES):
                idle += count
                continue
            own[frames[-1]] += count
            for name in set(frames):
                inclusive[name] += count
        busy = total - idle
        return {
            "file": str(self.output),
            "samples": total,
            "idle_share": idle / total if total else None,
            "self_share_of_busy": {k: v / busy for k, v in own.most_common(top)} if busy else {},
            "inclusive_share_of_busy": {k: v / busy for k, v in inclusive.most_common(top * 2)} if busy else {},
        }


def _frame_name(frame: str) -> str:
    """``handle (services/scoring/x.py:12)`` → ``handle (services/scoring/x.py)``: lines merged."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if where else name


def profilers(bench: ServiceBench) -> tuple[Profiler | None, Profiler | None]:
    """With ``--profile``: one py-spy for the backlog phase and one for the latency phase, each to its own file."""
    if not bench.args.profile:
        return None, None
    name = bench.spec.name
    backlog = Profiler.find(bench.log_dir / f"{name}-profile.txt")
    latency = Profiler.find(bench.log_dir / f"{name}-profile-latency.txt")
    if backlog is None:
        bench.warnings.append("--profile: py-spy not found (uv pip install py-spy)")
    return backlog, latency
