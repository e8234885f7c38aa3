"""Phase ``domain``: scoring's pure domain alone, in this process, over phase 1's very events.

No Kafka, no Postgres, no decoding: the events (already objects) are applied in event-time order
in batches of the consumer's size, each batch's touched members and transitions scored as the
service scores them. It is the most one scoring process could do on this machine with every bit
of I/O free, so it shows how much of the gap to the target is the rules themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.ingest_throughput import progress
from services.scoring.domain.events import apply_event
from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores
from shared.contracts import MemberEvent, MemberMergedV1


@dataclass(frozen=True)
class DomainCeiling:
    events: int
    batch: int
    seconds: float
    rate: float
    transitions: int
    us_per_event: float


def replay(events: list[MemberEvent], batch: int, policy: Policy) -> int:
    """Apply and score the events as the service would, a batch at a time; returns the transitions."""
    states: dict[str, MemberState] = {}
    transitions = 0
    ordered = sorted((e for e in events if not isinstance(e, MemberMergedV1)), key=lambda e: e.occurred_at)
    for start in range(0, len(ordered), batch):
        touched: set[str] = set()
        caused: list[Transition] = []
        for event in ordered[start : start + batch]:
            states[event.member_id], new = apply_event(states.get(event.member_id), event, policy)
            touched.add(event.member_id)
            caused += new
        with_scores([t.after for t in caused], policy, value=True)
        with_scores([states[m] for m in touched], policy, value=False)
        transitions += len(caused)
    return transitions


def measure_domain(events: list[MemberEvent], batch: int) -> DomainCeiling:
    progress(f"phase domain: the pure domain over the same {len(events):,} events, batches of {batch:,}…")
    started = time.perf_counter()
    transitions = replay(events, batch, Policy())
    seconds = time.perf_counter() - started
    progress(f"phase domain: {len(events) / seconds:,.0f} events/s")
    return DomainCeiling(len(events), batch, seconds, len(events) / seconds, transitions, seconds / len(events) * 1e6)
