"""The service under test as a real process: spawned, sampled from /proc, watched for readiness and idleness.

Every phase that needs the service (a backlog drain, paced latency) shares one process; its /metrics
are scraped for the histograms and counters each bench names.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.rss import ProcessSampler
from bench.service_bench.stack import ServiceBench, unpublished
from shared.settings import DEFAULT_HTTP_PORTS
from tools.services import RunningService, spawn_service, stop_services, wait_ready


class ServiceFailed(Exception):
    """The service's process died or could not start during a phase."""


@dataclass
class ServiceProcess:
    name: str
    service: RunningService
    sampler: ProcessSampler
    spawned_at: float
    ready: asyncio.Task[float]  # → time.time() when /readyz first answered

    @property
    def pid(self) -> int:
        return self.service.process.pid


@contextlib.asynccontextmanager
async def running_service(
    bench: ServiceBench, env: dict[str, str], *, replica: int = 0, replicas: int = 1
) -> AsyncIterator[ServiceProcess]:
    """The service as a process, sampled from its spawn until it has stopped; readiness awaited in the background.

    ``replica`` numbers one of ``replicas`` processes in the same group (its HTTP port is offset by it).
    """
    spec = bench.spec
    spawned_at = time.time()
    port = DEFAULT_HTTP_PORTS[spec.name] + spec.port_offset + replica
    service = spawn_service(spec.name, bench.log_dir, env, port)
    sampler = ProcessSampler(service.process.pid)
    sampler.start()

    async def ready() -> float:
        try:
            await asyncio.to_thread(wait_ready, [service], spec.ready_timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            raise ServiceFailed(str(exc)) from exc
        return time.time()

    process = ServiceProcess(
        spec.name, service, sampler, spawned_at, asyncio.create_task(ready(), name=f"{spec.name}-ready")
    )
    try:
        yield process
        # The last one started is the first one stopped: while it checks, all are still in the group.
        if replica == replicas - 1 and (members := await bench.probe.group_members(spec.group)) != replicas:
            bench.warnings.append(f"group {spec.group!r} had {members} members at the end: figures are suspect")
    finally:
        if not process.ready.done():
            process.ready.cancel()
        with contextlib.suppress(BaseException):
            await process.ready
        await sampler.stop()
        codes = await asyncio.to_thread(stop_services, [service])
        if codes.get(spec.name):
            bench.warnings.append(f"{spec.name} exited with {codes[spec.name]}; see {service.log_path}")


def alive(process: ServiceProcess) -> None:
    if process.service.process.poll() is not None:
        tail = process.service.log_path.read_text(errors="replace")[-3000:]
        raise ServiceFailed(f"{process.name} exited with {process.service.process.returncode}:\n{tail}")


def mark(sampler: ProcessSampler) -> float:
    """Sample now; the sample's own time, so a window ending (or starting) here includes it."""
    sampler.mark()
    return sampler.samples[-1].at if sampler.samples else time.time()


async def wait_idle(bench: ServiceBench, process: ServiceProcess) -> None:
    """Until the group has no lag and the outbox is published, twice in a row a second apart."""
    timeout_s = bench.spec.idle_timeout_s
    deadline = time.monotonic() + timeout_s
    calm = 0
    while calm < 2:
        alive(process)
        lag = await bench.probe.group_lag(bench.spec.group, bench.inputs)
        pending = await unpublished(bench.dsn)
        calm = calm + 1 if lag == 0 and pending == 0 else 0
        if time.monotonic() > deadline:
            bench.warnings.append(f"{process.name} not idle after {timeout_s:.0f} s (lag {lag}, outbox {pending})")
            return
        await asyncio.sleep(1.0)


async def scrape_metrics(
    process: ServiceProcess, histograms: Mapping[str, str], counters: Mapping[str, str]
) -> dict[str, float]:
    """From the service's /metrics: each histogram's count, sum and mean, and each counter, under its short name."""
    try:
        async with httpx.AsyncClient(base_url=process.service.base_url, timeout=5.0) as client:
            text = (await client.get("/metrics")).text
    except httpx.HTTPError:
        return {}
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("service", process.name) != process.name:
                continue
            for prefix, short in histograms.items():
                if sample.name in (f"{prefix}_count", f"{prefix}_sum"):
                    found[f"{short}_{sample.name.rsplit('_', 1)[1]}"] = sample.value
            if sample.name in counters:
                key = counters[sample.name]
                found[key] = found.get(key, 0.0) + sample.value
    for short in histograms.values():
        if found.get(f"{short}_count"):
            found[f"{short}_mean"] = found[f"{short}_sum"] / found[f"{short}_count"]
    return found
