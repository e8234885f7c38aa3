"""Samples a process's resident memory and CPU time, and the host's busy CPU, from /proc once a second (Linux)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float  # time.time()
    rss_kib: int
    cpu_s: float  # user + system CPU seconds since the process started
    host_busy_s: float  # CPU seconds all cores of the host spent not idle, since boot
    host_total_s: float


@dataclass(frozen=True)
class ProcessWindow:
    """Memory and CPU of the process between two moments."""

    rss_start_mib: float
    rss_peak_mib: float
    rss_end_mib: float
    cpu_percent: float  # of one core, averaged over the window
    cpu_s: float  # CPU seconds (user + system) the process used in the window
    host_cpu_percent: float  # of all the host's cores (Kafka, Postgres and the bench included)
    samples: int


def read_sample(pid: int) -> Sample | None:
    """One sample of ``pid``, or None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), None)
    if rss is None:  # a zombie has no VmRSS
        return None
    # Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    busy, total = host_cpu_s()
    return Sample(time.time(), rss, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, busy, total)


def host_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot; idle and iowait count as not busy."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(ticks[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    return (total - ticks[3] - ticks[4]) / CLOCK_TICKS, total / CLOCK_TICKS


class ProcessSampler:
    def __init__(self, pid: int, every_s: float = 1.0) -> None:
        self.pid = pid
        self.every_s = every_s
        self.samples: list[Sample] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample(), name=f"sample-{self.pid}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def mark(self) -> None:
        """Take one extra sample now, so a window can end exactly here."""
        if (sample := read_sample(self.pid)) is not None:
            self.samples.append(sample)

    def window(self, start: float, end: float) -> ProcessWindow | None:
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        elapsed = last.at - first.at
        host_total = last.host_total_s - first.host_total_s
        return ProcessWindow(
            rss_start_mib=first.rss_kib / 1024,
            rss_peak_mib=max(s.rss_kib for s in inside) / 1024,
            rss_end_mib=last.rss_kib / 1024,
            cpu_percent=100 * (last.cpu_s - first.cpu_s) / elapsed if elapsed > 0 else 0.0,
            cpu_s=last.cpu_s - first.cpu_s,
            host_cpu_percent=100 * (last.host_busy_s - first.host_busy_s) / host_total if host_total > 0 else 0.0,
            samples=len(inside),
        )

    async def _sample(self) -> None:
        while (sample := read_sample(self.pid)) is not None:
            self.samples.append(sample)
            await asyncio.sleep(self.every_s)
