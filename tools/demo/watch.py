"""How far each service has got: records done, consumer lag and unpublished outbox rows, sampled each second.

The samples become the report's throughput and lag charts. ``wait_drained`` returns once the
pipeline is at rest: every service has read all its input and published all its output, scoring
and campaigns have no timer due at their event-time watermark (reviews, replenishment dates,
queued offers), and the notifier has nothing due now.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.live import Live
from rich.table import Table

from shared.settings import SERVICE_NAMES, Settings
from tools.demo.config import service_url
from tools.demo.reset import INPUTS
from tools.kafka_probe import KafkaProbe

# Timers due at each service's own watermark (its gauge, in unix seconds): the work still to do
# once the input is read, because event time has passed their moment.
_DUE = {
    "scoring": (
        "memberpulse_scoring_watermark_timestamp_seconds",
        ["SELECT count(*) FROM members WHERE next_review_at <= to_timestamp($1)"],
    ),
    "campaigns": (
        "memberpulse_campaigns_watermark_timestamp_seconds",
        [
            "SELECT count(*) FROM members WHERE replenish_due_at <= to_timestamp($1)",
            "SELECT count(*) FROM decisions WHERE outcome = 'queued' AND not_before <= to_timestamp($1)",
        ],
    ),
}
_NOTIFIER_DUE = "SELECT count(*) FROM sends WHERE due_at <= now()"


@dataclass(frozen=True)
class Progress:
    done: dict[str, int]  # input records committed since the run began, per service
    lag: dict[str, int]
    outbox: dict[str, int]
    due: dict[str, int]  # timers or sends due and not yet handled, per service
    running: frozenset[str] = frozenset(SERVICE_NAMES)  # a service not started yet is not waited for

    @property
    def at_rest(self) -> bool:
        return not any(
            self.lag[service] or self.outbox[service] or self.due.get(service, 0) for service in self.running
        )


@dataclass
class Watcher:
    settings: Settings
    published: Callable[[], int]  # records handed to ingest so far (by the publisher)
    running: set[str] = field(default_factory=lambda: set(SERVICE_NAMES))
    started: float = field(default_factory=time.monotonic)
    samples: list[dict[str, Any]] = field(default_factory=list)
    _probe: KafkaProbe | None = None
    _partitions: dict[str, list[TopicPartition]] = field(default_factory=dict)
    _starts: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)
    _pools: dict[str, asyncpg.Pool] = field(default_factory=dict)
    _http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=5.0))

    async def start(self) -> None:
        """Note where each group stands now: ``done`` counts from here."""
        self._probe = KafkaProbe(self.settings.kafka.bootstrap_servers)
        await self._probe.start()
        for service, topics in INPUTS.items():
            self._partitions[service] = await self._probe.partitions([t.name for t in topics])
            self._starts[service] = await self._committed(service)
            self._pools[service] = await asyncpg.create_pool(self.settings.pg.dsn_for(service), min_size=1, max_size=1)

    async def close(self) -> None:
        await self._http.aclose()
        for pool in self._pools.values():
            await pool.close()
        if self._probe is not None:
            await self._probe.close()

    async def _committed(self, service: str) -> dict[TopicPartition, int]:
        assert self._probe is not None
        return await self._probe.positions(service, self._partitions[service])

    async def sample(self) -> Progress:
        assert self._probe is not None
        done, lag, outbox = {}, {}, {}
        for service in SERVICE_NAMES:
            position = await self._committed(service)
            done[service] = sum(position[tp] - self._starts[service].get(tp, 0) for tp in position)
            ends = await self._probe.end_offsets(self._partitions[service])
            lag[service] = sum(max(0, ends[tp] - position[tp]) for tp in position)
            outbox[service] = int(
                await self._pools[service].fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        due = {service: await self._timers_due(service) for service in _DUE if service in self.running}
        due["notifier"] = int(await self._pools["notifier"].fetchval(_NOTIFIER_DUE))
        progress = Progress(done, lag, outbox, due, frozenset(self.running))
        self.samples.append(
            {
                "t_s": round(time.monotonic() - self.started, 1),
                "published": self.published(),
                **{f"{s}_done": done[s] for s in SERVICE_NAMES},
                "lag": dict(lag),
            }
        )
        return progress

    async def _timers_due(self, service: str) -> int:
        gauge, queries = _DUE[service]
        text = (await self._http.get(f"{service_url(service)}/metrics")).text
        watermark = next(
            (s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == gauge), 0.0
        )
        if not watermark:
            return 0
        return sum([int(await self._pools[service].fetchval(query, watermark)) for query in queries])

    async def follow(self, until: asyncio.Event, every_s: float = 1.0) -> None:
        """Sample until ``until`` is set (the publisher runs meanwhile)."""
        while not until.is_set():
            await self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), every_s)

    async def wait_drained(self, console: Console, *, settle: int = 3, limit_s: float = 1800.0) -> float:
        """Sample each second, showing a live table, until at rest ``settle`` times running; seconds waited."""
        began = time.monotonic()
        quiet = 0
        with Live(console=console, refresh_per_second=2, transient=True) as live:
            while quiet < settle:
                if time.monotonic() - began > limit_s:
                    raise TimeoutError(f"the pipeline did not drain within {limit_s:.0f} s: see out/logs/")
                progress = await self.sample()
                live.update(_table(progress, time.monotonic() - began))
                quiet = quiet + 1 if progress.at_rest else 0
                await asyncio.sleep(1.0)
        return time.monotonic() - began


def _table(progress: Progress, waited_s: float) -> Table:
    table = Table(title=f"draining the pipeline… {waited_s:.0f} s", title_justify="left")
    for column in ("service", "records done", "lag", "outbox", "due"):
        table.add_column(column, justify="right" if column != "service" else "left")
    for service in SERVICE_NAMES:
        table.add_row(
            service if service in progress.running else f"{service} (not started yet)",
            f"{progress.done[service]:,}",
            f"{progress.lag[service]:,}",
            f"{progress.outbox[service]:,}",
            f"{progress.due.get(service, 0):,}",
        )
    table.caption = "due: timers past the service's event-time watermark (scoring, campaigns), sends due now (notifier)"
    return table
