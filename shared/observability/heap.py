"""Keeping Python's cyclic garbage collector from pausing a service, and showing its pauses.

A full (generation 2) collection walks every tracked object. Right after start that is mostly
what start-up built and keeps for good: modules, pydantic schemas, templates, clients. On this
product's services such a collection took 60-95 ms and found nothing to free, and it ran every
few seconds under load: long enough to stall a partition's batch or a rate-limited send queue
(found with the notifier's rate-limit benchmark). Freezing the start-up heap moves those objects
out of the collector's sight; what the service allocates afterwards is still collected as usual.

Full collections still came too often under load: a batch's records live for the whole batch, so
they outlive two young collections and count as long-lived, and Python runs a full collection
once ten generation-1 collections have run and those newcomers reach a quarter of the long-lived
heap, which the frozen start-up heap leaves small. In ingest's benchmark that was 27 full
collections (of 343 generation-1 ones) of about 90 ms each: 2.4 of its 17.3 CPU-seconds.
``relax_full_collections`` asks for ten times as many generation-1 collections between full ones.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Histogram

GC_PAUSE = Histogram(
    "memberpulse_gc_pause_seconds",
    "Time the process stood still in one cyclic garbage collection, by generation",
    ["generation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)

_started: list[float] = []


def _time_collections(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        GC_PAUSE.labels(str(info["generation"])).observe(time.perf_counter() - _started.pop())


def watch_collections() -> None:
    """Record every collection's pause in ``memberpulse_gc_pause_seconds``."""
    if _time_collections not in gc.callbacks:
        gc.callbacks.append(_time_collections)


def freeze_startup_heap() -> None:
    """Collect once, then exempt everything still alive from later collections (``gc.freeze``).

    Call it when the service is built and before it takes traffic.
    """
    gc.collect()
    gc.freeze()


# Python's defaults are (700, 10, 10); only the third, full collections, changes.
GC_THRESHOLDS = (700, 10, 100)


def relax_full_collections() -> None:
    """Run a full collection at most every 100 generation-1 collections (Python's default: 10).

    Cyclic garbage then waits a little longer to be freed: in ingest's benchmark the peak resident
    memory was 196-210 MiB against 179-191 MiB with the default, and 4 full collections took
    0.3-0.4 of 14.8-15.8 CPU-seconds.
    """
    gc.set_threshold(*GC_THRESHOLDS)
