"""The provider sink as its own process (tools.provider_sinks), what it saw, and what it can take.

Arrival times are the sink's (``t_wall``, ``t_mono``: when the whole request had arrived), so rates and
latencies are measured where the provider would see them, not in the notifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.ingest_throughput import progress
from tools.provider_sinks import SMS_AUTH, SinkClient, SinkProcess


@contextlib.contextmanager
def running_sink() -> Iterator[SinkProcess]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-notifier-sink-") as folder,
        SinkProcess(Path(folder) / "sink-state.jsonl") as sink,
    ):
        _measure_first(sink)
        yield sink


def _measure_first(sink: SinkProcess) -> None:
    """Run the sink ahead of everything else on the host, so its arrival times are when calls arrived.

    On two shared cores a sink left at normal priority waits its turn with Kafka, Postgres and the
    notifier, then stamps a queue of calls at once: a bunching the notifier never caused. Needs root
    (or CAP_SYS_NICE); without it the sink runs as it is and the figures say less.
    """
    if sink.proc is None:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, sink.proc.pid, -10)
    except PermissionError:
        progress("note: no permission to raise the sink's priority; arrival times include its scheduling waits")


def client(sink: SinkProcess) -> SinkClient:
    if sink.client is None:
        raise RuntimeError("provider sink not started")
    return sink.client


def provider_env(sink_url: str, rate: float, burst: float) -> dict[str, str]:
    """SMS only, to the sink; the SMS gateway's own settings (timeout, connections) left at their defaults."""
    return {
        "MP_NOTIFIER_SMS": json.dumps({"url": f"{sink_url}/sms/send", "auth_value": SMS_AUTH}),
        "MP_NOTIFIER_RATE_LIMITS": json.dumps({"sms": {"per_second": rate, "burst": burst}}),
    }


async def delivered(sink: SinkProcess) -> int:
    stats = await asyncio.to_thread(client(sink).stats)
    return int(stats["deliveries"])


@dataclass(frozen=True)
class Seen:
    """The run's deliveries (arrival times by idempotency key) and its calls by outcome."""

    arrivals: dict[str, float]  # key → t_wall of its delivery
    monotonic: list[float]  # t_mono of each delivery, sorted
    calls: dict[str, int]  # outcome → calls with one of the run's keys (accepted, duplicate, fault:…, rejected:…)

    @property
    def duplicates(self) -> int:
        return self.calls.get("duplicate", 0)


async def seen(sink: SinkProcess, keys: Collection[str], since: int, calls_since: int) -> Seen:
    """What the sink saw of ``keys`` after delivery index ``since`` and call index ``calls_since``."""
    wanted = set(keys)
    deliveries = await asyncio.to_thread(client(sink).deliveries, since)
    calls = await asyncio.to_thread(client(sink).calls, calls_since)
    mine = [d for d in deliveries if d["idempotency_key"] in wanted]
    outcomes: dict[str, int] = {}
    for call in calls:
        if call["idempotency_key"] in wanted:
            outcomes[call["outcome"]] = outcomes.get(call["outcome"], 0) + 1
    return Seen(
        {d["idempotency_key"]: float(d["t_wall"]) for d in mine},
        sorted(float(d["t_mono"]) for d in mine),
        dict(sorted(outcomes.items())),
    )


async def call_count(sink: SinkProcess) -> int:
    """How many calls the sink has logged (the index the next one gets)."""
    return int((await _control(sink.url, "/_sink/calls", since=2**62))["next"])


async def _control(url: str, path: str, **params: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        answer: dict[str, Any] = (await http.get(path, params=params)).json()
        return answer


async def sink_ceiling(url: str, calls: int, concurrency: int) -> tuple[float, float]:
    """A bare keep-alive HTTP/1.1 loop (asyncio streams, no HTTP library): ``calls`` valid SMS sends over
    ``concurrency`` connections, one request in flight per connection as notifier's pool has it.

    (client-side calls/s, sink-side calls/s first → last arrival): what this sink takes on this machine
    from a client that costs next to nothing per call.
    """
    stamp = f"ceiling-{time.time_ns()}"
    host, port = url.removeprefix("http://").split(":")
    numbers = iter(range(calls))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for n in numbers:
                key = f"{stamp}-{n}"
                body = json.dumps({"to": f"+8615{n:09d}", "text": "ceiling", "client_ref": key}).encode()
                head = (
                    f"POST /sms/send HTTP/1.1\r\nHost: {host}\r\nAuthorization: {SMS_AUTH}\r\n"
                    f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                if b" 200 " not in status:
                    raise RuntimeError(f"sink answered {status!r}")
        finally:
            writer.close()

    start = int((await _control(url, "/_sink/stats"))["deliveries"])
    began = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    client_rate = calls / (time.perf_counter() - began)
    deliveries = (await _control(url, "/_sink/deliveries", since=start))["deliveries"]
    arrivals = sorted(float(d["t_mono"]) for d in deliveries if str(d["idempotency_key"]).startswith(stamp))
    sink_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    return client_rate, sink_rate
