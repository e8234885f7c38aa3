"""campaigns as a real process: spawned with the bench's definitions, sampled from /proc, its /metrics scraped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.campaigns.config import GROUP, IDLE_TIMEOUT_S, PORT_OFFSET, READY_TIMEOUT_S, TOKEN
from bench.campaigns.stack import Bench, unpublished
from bench.rss import ProcessSampler
from shared.settings import DEFAULT_HTTP_PORTS
from tools.services import RunningService, spawn_service, stop_services, wait_ready


class CampaignsFailed(Exception):
    """The campaigns process died or could not start during a phase."""


@dataclass
class CampaignsProcess:
    service: RunningService
    sampler: ProcessSampler
    spawned_at: float
    ready: asyncio.Task[float]  # → time.time() when /readyz first answered


def campaigns_env(definitions: Path) -> dict[str, str]:
    return {
        "MP_CAMPAIGNS_DEFINITIONS_DIR": str(definitions),
        # Event time only: the backlog's history moves time, never the wall clock.
        "MP_CAMPAIGNS_LIVE_CLOCK": "false",
        "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
    }


@contextlib.asynccontextmanager
async def running_campaigns(bench: Bench, definitions: Path) -> AsyncIterator[CampaignsProcess]:
    """campaigns as a real process, sampled from its spawn until it has stopped; readiness awaited in the background."""
    spawned_at = time.time()
    port = DEFAULT_HTTP_PORTS["campaigns"] + PORT_OFFSET
    service = spawn_service("campaigns", bench.log_dir, campaigns_env(definitions), port)
    sampler = ProcessSampler(service.process.pid)
    sampler.start()

    async def ready() -> float:
        try:
            await asyncio.to_thread(wait_ready, [service], READY_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            raise CampaignsFailed(str(exc)) from exc
        return time.time()

    process = CampaignsProcess(service, sampler, spawned_at, asyncio.create_task(ready(), name="campaigns-ready"))
    try:
        yield process
        if (members := await bench.probe.group_members(GROUP)) != 1:
            bench.warnings.append(f"group {GROUP!r} had {members} members at the end: figures are suspect")
    finally:
        if not process.ready.done():
            process.ready.cancel()
        with contextlib.suppress(BaseException):
            await process.ready
        await sampler.stop()
        codes = await asyncio.to_thread(stop_services, [service])
        if codes.get("campaigns"):
            bench.warnings.append(f"campaigns exited with {codes['campaigns']}; see {service.log_path}")


def alive(process: CampaignsProcess) -> None:
    if process.service.process.poll() is not None:
        tail = process.service.log_path.read_text(errors="replace")[-3000:]
        raise CampaignsFailed(f"campaigns exited with {process.service.process.returncode}:\n{tail}")


def mark(sampler: ProcessSampler) -> float:
    """Sample now; the sample's own time, so a window ending (or starting) here includes it."""
    sampler.mark()
    return sampler.samples[-1].at if sampler.samples else time.time()


async def wait_idle(bench: Bench, process: CampaignsProcess) -> None:
    """Until the group has no lag and the outbox is published, twice in a row a second apart."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    calm = 0
    while calm < 2:
        alive(process)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        pending = await unpublished(bench.dsn)
        calm = calm + 1 if lag == 0 and pending == 0 else 0
        if time.monotonic() > deadline:
            bench.warnings.append(f"campaigns not idle after {IDLE_TIMEOUT_S:.0f} s (lag {lag}, outbox {pending})")
            return
        await asyncio.sleep(1.0)


HISTOGRAMS = {
    "memberpulse_consumer_batch_records": "batch_records",
    "memberpulse_batch_duration_seconds": "batch_seconds",
}


COUNTERS = {
    "memberpulse_consumer_retries_total": "retries",
    "memberpulse_consumer_rebalances_total": "rebalances",
    "memberpulse_campaigns_outside_audience_total": "outside_audience",
}


async def scrape_metrics(process: CampaignsProcess) -> dict[str, float]:
    """Batches (count, mean size, mean duration), retries, rebalances and triggers outside the audience."""
    try:
        async with httpx.AsyncClient(base_url=process.service.base_url, timeout=5.0) as client:
            text = (await client.get("/metrics")).text
    except httpx.HTTPError:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service", "campaigns") != "campaigns":
                continue
            for prefix, short in HISTOGRAMS.items():
                if sample.name in (f"{prefix}_count", f"{prefix}_sum"):
                    found[f"{short}_{sample.name.rsplit('_', 1)[1]}"] = sample.value
            if sample.name in COUNTERS:
                key = COUNTERS[sample.name]
                found[key] = found.get(key, 0.0) + sample.value
    for short in HISTOGRAMS.values():
        if found.get(f"{short}_count"):
            found[f"{short}_mean"] = found[f"{short}_sum"] / found[f"{short}_count"]
    return found
