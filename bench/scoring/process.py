"""Scoring as a real process (bench.service_bench.process): its environment and the /metrics the bench keeps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bench.scoring.config import TOKEN
from bench.scoring.stack import Bench
from bench.service_bench.process import ServiceProcess, running_service, scrape_metrics

HISTOGRAMS = {
    "memberpulse_consumer_batch_records": "batch_records",
    "memberpulse_batch_duration_seconds": "batch_seconds",
    "memberpulse_scoring_sweep_batch_duration_seconds": "sweep_batch_seconds",
}
COUNTERS = {
    "memberpulse_scoring_swept_members_total": "swept_members_total",
    "memberpulse_consumer_retries_total": "consumer_retries_total",
    "memberpulse_consumer_rebalances_total": "consumer_rebalances_total",
    "memberpulse_scoring_transitions_total": "transitions_total",
}


@contextlib.asynccontextmanager
async def running_scoring(bench: Bench) -> AsyncIterator[ServiceProcess]:
    # A history in event time: only events move time, never the wall clock.
    env = {"MP_SCORING_LIVE_CLOCK": "false", "MP_HTTP_MANAGEMENT_TOKEN": TOKEN}
    async with running_service(bench, env) as scoring:
        yield scoring


async def scoring_metrics(scoring: ServiceProcess) -> dict[str, float]:
    """Batches and their mean size and duration, sweeps, retries and rebalances, from scoring's /metrics."""
    return await scrape_metrics(scoring, HISTOGRAMS, COUNTERS)


def metrics_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What happened between two scrapes: counts and sums subtracted, histogram means over the window."""
    delta = {key: value - before.get(key, 0.0) for key, value in after.items() if not key.endswith("_mean")}
    for short in HISTOGRAMS.values():
        if delta.get(f"{short}_count"):
            delta[f"{short}_mean"] = delta[f"{short}_sum"] / delta[f"{short}_count"]
    return delta
