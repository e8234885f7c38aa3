"""Scoring as a real process (bench.service_bench.process): its environment and the /metrics the bench keeps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

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
async def running_scoring(bench: Bench) -> AsyncIterator[list[ServiceProcess]]:
    """``--replicas`` scoring processes in one group; the first is the one phases wait on and sample."""
    # A history in event time: only events move time, never the wall clock.
    # The bench publishes canonical events itself, with no progress marks to wait for.
    env = {"MP_SCORING_LIVE_CLOCK": "false", "MP_HTTP_MANAGEMENT_TOKEN": TOKEN, "MP_KAFKA_FIRST_MARK_WAIT_MS": "0"}
    replicas = bench.args.replicas
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(running_service(bench, env, replica=r, replicas=replicas))
            for r in range(replicas)
        ]


async def scoring_metrics(processes: Sequence[ServiceProcess]) -> dict[str, float]:
    """Batches and their mean size and duration, sweeps, retries and rebalances, over every replica's /metrics."""
    total: dict[str, float] = {}
    for process in processes:
        for key, value in (await scrape_metrics(process, HISTOGRAMS, COUNTERS)).items():
            if not key.endswith("_mean"):
                total[key] = total.get(key, 0.0) + value
    return metrics_delta({}, total)


def metrics_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What happened between two scrapes: counts and sums subtracted, histogram means over the window."""
    delta = {key: value - before.get(key, 0.0) for key, value in after.items() if not key.endswith("_mean")}
    for short in HISTOGRAMS.values():
        if delta.get(f"{short}_count"):
            delta[f"{short}_mean"] = delta[f"{short}_sum"] / delta[f"{short}_count"]
    return delta
