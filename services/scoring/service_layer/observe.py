"""Counting what scoring decided, for the ops dashboards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from services.scoring.adapters import metrics
from services.scoring.domain.lifecycle import WARNING_REASONS, Transition
from shared.contracts import Lifecycle


def count_transitions(transitions: Sequence[Transition]) -> None:
    moves: Counter[tuple[str, str, str]] = Counter()
    warnings: Counter[str] = Counter()
    for t in transitions:
        before = t.before.lifecycle.value if t.before else "none"
        # The first reason the new state gives (reason codes are a fixed set): why the member moved.
        reason = t.after.reasons[0] if t.after.reasons else "none"
        moves[before, t.after.lifecycle.value, reason] += 1
        if t.after.lifecycle is Lifecycle.AT_RISK and (t.before is None or t.before.lifecycle is not Lifecycle.AT_RISK):
            warnings.update(r for r in t.after.reasons if r in WARNING_REASONS)
    for (before, after, reason), n in moves.items():
        metrics.TRANSITIONS.labels(before, after, reason).inc(n)
    for reason, n in warnings.items():
        metrics.CHURN_WARNINGS.labels(reason).inc(n)
