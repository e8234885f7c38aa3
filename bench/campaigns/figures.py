"""What each phase measured: the records written to ``out/bench/campaigns-<stamp>.json``.

Phase 1's bare loop writes bench.service_bench.figures.BaselineFigures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.rss import ProcessWindow


@dataclass(frozen=True)
class ThroughputFigures:
    run: str
    members: int
    campaigns: int
    triggers: int  # records published to campaigns' inputs before it started
    state_triggers: int
    sale_triggers: int
    preload_rate: float  # records/s produced by the bench (generation excluded)
    startup_s: float | None  # spawn → /readyz answers
    first_progress_after_s: float | None  # spawn → first committed batch seen (lag below N)
    lag_zero_after_s: float | None  # spawn → group lag 0 on the five inputs
    rate_with_startup: float | None  # N / (spawn → lag 0)
    steady_triggers: int  # records still unread at the first committed batch
    steady_s: float | None  # first committed batch → lag 0
    rate_steady: float | None
    outbox_drained_after_s: float | None  # spawn → every offer of the backlog published
    decisions_in_table: int  # SELECT count(*) FROM decisions
    decisions_of_run: int  # those of the run's members
    outcomes: dict[str, int]  # decisions of the run's members by outcome
    expected: int  # trigger occurrences the audience admits: each must have exactly one decision
    lost: int  # expected occurrences without a decision
    unexpected: int  # decisions of the run's members the bench did not expect
    offers_issued: int  # decisions of the run with outcome issued
    offers_published: int  # records that reached offer.issued.v1 meanwhile
    stalled: bool
    tables_intact: bool  # the bench's campaigns and members were still there at the end, and only they
    cpu_s_per_1000_triggers: float | None  # steady window
    process: ProcessWindow | None  # ready → lag 0
    steady_process: ProcessWindow | None  # first committed batch → lag 0
    consumer_metrics: dict[str, float] = field(default_factory=dict)  # from campaigns' /metrics at lag 0
    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class LatencyFigures:
    run: str
    offered_rate: float
    seconds: float
    sent: int
    achieved_rate: float
    offers: int  # offers matched to a trigger (by member id)
    lost: int
    duplicates: int
    # trigger published → offer record's Kafka timestamp (the relay's send)
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    # trigger published → offer consumed by the bench, and the bare hop: trigger published → trigger consumed
    consumed_p50_ms: float | None
    consumed_p99_ms: float | None
    bare_hop_received: int
    bare_p50_ms: float | None
    bare_p95_ms: float | None
    bare_p99_ms: float | None
    bare_max_ms: float | None
    process: ProcessWindow | None
    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class BatchCount:
    statements: int  # round trips of the whole batch transaction: inbox claim, handler, outbox append
    handler_statements: int  # of which the handler's
    triggers: int
    candidates_decided: int  # decisions recorded by this batch
    offers: int
    ms: float
    db_ms: float  # of which awaiting Postgres (statement calls)


@dataclass(frozen=True)
class RoundTripFigures:
    campaigns: int
    members: int
    batch_size: int
    batches: list[BatchCount]
    statements_min: int
    statements_max: int
    statements_per_decision: float | None
    by_statement: dict[str, int]  # statement → calls, over this configuration's batches
    by_statement_ms: dict[str, float]  # statement → ms awaiting Postgres, over this configuration's batches
