"""campaigns as a real process (bench.service_bench.process), started on the bench's definitions; the /metrics kept."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bench.campaigns.config import TOKEN
from bench.campaigns.stack import Bench
from bench.service_bench.process import ServiceProcess, running_service, scrape_metrics

HISTOGRAMS = {
    "memberpulse_consumer_batch_records": "batch_records",
    "memberpulse_batch_duration_seconds": "batch_seconds",
}
COUNTERS = {
    "memberpulse_consumer_retries_total": "retries",
    "memberpulse_consumer_rebalances_total": "rebalances",
    "memberpulse_campaigns_outside_audience_total": "outside_audience",
}


@contextlib.asynccontextmanager
async def running_campaigns(bench: Bench, definitions: Path) -> AsyncIterator[ServiceProcess]:
    env = {
        "MP_CAMPAIGNS_DEFINITIONS_DIR": str(definitions),
        # Event time only: the backlog's history moves time, never the wall clock.
        "MP_CAMPAIGNS_LIVE_CLOCK": "false",
        "MP_HTTP_MANAGEMENT_TOKEN": TOKEN,
        # The bench publishes states and purchases itself, with no progress marks to wait for.
        "MP_KAFKA_FIRST_MARK_WAIT_MS": "0",
    }
    async with running_service(bench, env) as process:
        yield process


async def campaigns_metrics(process: ServiceProcess) -> dict[str, float]:
    """Batches (count, mean size, mean duration), retries, rebalances and triggers outside the audience."""
    return await scrape_metrics(process, HISTOGRAMS, COUNTERS)
