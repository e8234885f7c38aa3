"""Scoring as a real process: spawned, sampled from /proc, watched for readiness and idleness, its /metrics scraped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.rss import ProcessSampler
from bench.scoring.config import GROUP, IDLE_TIMEOUT_S, PORT_OFFSET, READY_TIMEOUT_S, TOKEN
from bench.scoring.stack import Bench, unpublished
from shared.settings import DEFAULT_HTTP_PORTS
from tools.services import RunningService, spawn_service, stop_services, wait_ready


class ScoringFailed(Exception):
    """The scoring process died or could not start during a phase."""


@dataclass
class ScoringProcess:
    service: RunningService
    sampler: ProcessSampler
    spawned_at: float
    ready: asyncio.Task[float]  # → time.time() when /readyz first answered


def scoring_env() -> dict[str, str]:
    # A history in event time: only events move time, never the wall clock.
    return {"MP_SCORING_LIVE_CLOCK": "false", "MP_HTTP_MANAGEMENT_TOKEN": TOKEN}


@contextlib.asynccontextmanager
async def running_scoring(bench: Bench) -> AsyncIterator[ScoringProcess]:
    """Scoring as a real process, sampled from its spawn until it has stopped; readiness awaited in the background."""
    spawned_at = time.time()
    service = spawn_service("scoring", bench.log_dir, scoring_env(), DEFAULT_HTTP_PORTS["scoring"] + PORT_OFFSET)
    sampler = ProcessSampler(service.process.pid)
    sampler.start()

    async def ready() -> float:
        try:
            await asyncio.to_thread(wait_ready, [service], READY_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            raise ScoringFailed(str(exc)) from exc
        return time.time()

    scoring = ScoringProcess(service, sampler, spawned_at, asyncio.create_task(ready(), name="scoring-ready"))
    try:
        yield scoring
        if (members := await bench.probe.group_members(GROUP)) != 1:
            bench.warnings.append(f"group {GROUP!r} had {members} members at the end: figures are suspect")
    finally:
        if not scoring.ready.done():
            scoring.ready.cancel()
        with contextlib.suppress(BaseException):
            await scoring.ready
        await sampler.stop()
        codes = await asyncio.to_thread(stop_services, [service])
        if codes.get("scoring"):
            bench.warnings.append(f"scoring exited with {codes['scoring']}; see {service.log_path}")


def alive(scoring: ScoringProcess) -> None:
    if scoring.service.process.poll() is not None:
        tail = scoring.service.log_path.read_text(errors="replace")[-3000:]
        raise ScoringFailed(f"scoring exited with {scoring.service.process.returncode}:\n{tail}")


def mark(sampler: ProcessSampler) -> float:
    """Sample now; the sample's own time, so a window ending (or starting) here includes it."""
    sampler.mark()
    return sampler.samples[-1].at if sampler.samples else time.time()


async def wait_idle(bench: Bench, scoring: ScoringProcess) -> None:
    """Until the group has no lag and the outbox is published, twice in a row a second apart."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    calm = 0
    while calm < 2:
        alive(scoring)
        lag = await bench.probe.group_lag(GROUP, bench.inputs)
        pending = await unpublished(bench.dsn)
        calm = calm + 1 if lag == 0 and pending == 0 else 0
        if time.monotonic() > deadline:
            bench.warnings.append(f"scoring not idle after {IDLE_TIMEOUT_S:.0f} s (lag {lag}, outbox {pending})")
            return
        await asyncio.sleep(1.0)


SCRAPED = {
    "memberpulse_consumer_batch_records": "batch_records",
    "memberpulse_batch_duration_seconds": "batch_seconds",
    "memberpulse_scoring_sweep_batch_duration_seconds": "sweep_batch_seconds",
}


async def scrape_metrics(scoring: ScoringProcess) -> dict[str, float]:
    """Batches and their mean size and duration, sweeps, retries and rebalances, from scoring's /metrics."""
    try:
        async with httpx.AsyncClient(base_url=scoring.service.base_url, timeout=5.0) as client:
            text = (await client.get("/metrics")).text
    except httpx.HTTPError:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service", "scoring") != "scoring":
                continue
            name = sample.name
            for prefix, short in SCRAPED.items():
                if name in (f"{prefix}_count", f"{prefix}_sum"):
                    found[f"{short}_{name.rsplit('_', 1)[1]}"] = sample.value
            if name in (
                "memberpulse_scoring_swept_members_total",
                "memberpulse_consumer_retries_total",
                "memberpulse_consumer_rebalances_total",
                "memberpulse_scoring_transitions_total",
            ):
                key = name.removeprefix("memberpulse_").removeprefix("scoring_")
                found[key] = found.get(key, 0.0) + sample.value
    for short in SCRAPED.values():
        if found.get(f"{short}_count"):
            found[f"{short}_mean"] = found[f"{short}_sum"] / found[f"{short}_count"]
    return found
