"""What each phase measured: the records merged into ``bench/results/scoring.json``.

Phase 2 (the bare loop) writes bench.service_bench.figures.BaselineFigures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.rss import ProcessWindow


@dataclass(frozen=True)
class ThroughputFigures:
    run: str
    members: int
    events: int
    purchase_events: int
    preload_rate: float  # records/s produced by the bench (generation excluded)
    startup_s: float | None  # spawn → /readyz answers
    first_progress_after_s: float | None  # spawn → first committed batch seen (lag below N)
    lag_zero_after_s: float | None  # spawn → group lag 0 on the four inputs
    rate_with_startup: float | None  # N / (spawn → lag 0)
    steady_events: int  # records still unread at the first committed batch
    steady_s: float | None  # first committed batch → lag 0
    rate_steady: float | None
    outbox_drained_after_s: float | None  # spawn → every state event of the run published
    state_events: int  # transitions recorded for the run's members
    members_in_state: int
    events_in_inbox: int
    still_deferred: int
    purchases_in_state: int
    lost: int
    stalled: bool
    cpu_s_per_1000_events: float | None  # steady window
    cpu_s_spawn_to_lag_zero: float | None
    process: ProcessWindow | None  # ready → lag 0
    steady_process: ProcessWindow | None  # first committed batch → lag 0
    consumer_metrics: dict[str, float] = field(default_factory=dict)  # from scoring's /metrics at lag 0
    profile: dict[str, Any] | None = None
    replicas: int = 1
    # Every replica's CPU over the steady window (the figures above are the first replica's).
    all_replicas_cpu_s_per_1000_events: float | None = None


@dataclass(frozen=True)
class LatencyFigures:
    run: str
    offered_rate: float
    seconds: float
    sent: int
    achieved_rate: float
    received: int
    dead_letters: dict[str, int]
    lost: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    bare_hop_received: int
    bare_p50_ms: float | None
    bare_p95_ms: float | None
    bare_p99_ms: float | None
    bare_max_ms: float | None
    process: ProcessWindow | None
    profile: dict[str, Any] | None = None
    # Scoring's batches while the events were offered: its /metrics after less before.
    consumer_metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepFigures:
    run: str
    members_inserted: int
    insert_s: float
    analyze_s: float
    until: str
    due: int  # members with next_review_at <= W before the sweep (all of them this run's)
    swept: int
    seconds: float
    members_per_s: float
    transitions: int
    outbox_rows: int
    due_after: int
    batch_size: int
    cleanup_s: float
