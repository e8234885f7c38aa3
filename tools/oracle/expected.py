"""``expected(records)``: the verdict of every upstream record, folded into what a run must show."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.campaigns.domain.definitions import Campaign
from services.scoring.domain.policy import Policy
from tools.oracle.offers import LifecycleDecisions, lifecycle_decisions, shipped_campaigns
from tools.oracle.states import ExpectedState, expected_states
from tools.simulate import SimRecord

_DLQ = "dlq:"


def body_digest(body: bytes) -> str:
    """How a dead letter is matched with the record it came from: the bytes, which a DLQ keeps whole."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Expected:
    # Upstream event ids (ingest's ``source_event_id``) that must reach ingest's output once each.
    accepted: frozenset[str]
    # (body digest, rejection code) -> how many such records must be dead-lettered.
    dead_letters: Counter[tuple[str, str]]
    duplicates: int
    ignored: int
    # Per person (the generator's partition key): (sales, sales_minor, refunds, refunds_minor) that
    # member state must end with, summed over every member id the person is known by.
    purchases: dict[bytes, tuple[int, int, int, int]] = field(default_factory=dict)
    # Per person: the event times of their first and last sale, over every member id they are known by.
    sale_span: dict[bytes, tuple[datetime, datetime]] = field(default_factory=dict)
    # Per person: the lifecycle and tiers scoring's rules give them once every event is in.
    states: dict[bytes, ExpectedState] = field(default_factory=dict)
    # Per person: the decisions lifecycle campaigns owe their lifecycle entries (offers.py).
    lifecycle: LifecycleDecisions = field(default_factory=lambda: LifecycleDecisions({}, {}))

    @property
    def records(self) -> int:
        return len(self.accepted) + self.dead_letters.total() + self.duplicates + self.ignored


def expected(
    records: Iterable[SimRecord], policy: Policy | None = None, campaigns: Iterable[Campaign] | None = None
) -> Expected:
    """``policy``: the rules and model scoring runs with; by default, a service never fitted.
    ``campaigns``: the definitions campaigns runs with; by default, the ones it ships."""
    records = list(records)
    accepted: set[str] = set()
    dead: Counter[tuple[str, str]] = Counter()
    dropped: Counter[str] = Counter()
    purchases: dict[bytes, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    sale_span: dict[bytes, tuple[datetime, datetime]] = {}
    for record in records:
        if record.expect == "accepted":
            if record.ref in accepted:
                raise ValueError(f"upstream id {record.ref!r} is accepted twice: the input log is inconsistent")
            accepted.add(record.ref)
            if record.amount is not None:
                kind, minor = record.amount
                sums = purchases[record.key]
                at = 0 if kind == "sale" else 2
                sums[at] += 1
                sums[at + 1] += minor
                if kind == "sale":
                    first, last = sale_span.get(record.key, (record.at, record.at))
                    sale_span[record.key] = (min(first, record.at), max(last, record.at))
        elif record.expect.startswith(_DLQ):
            dead[(body_digest(record.body), record.expect.removeprefix(_DLQ))] += 1
        elif record.expect in ("duplicate", "ignored"):
            dropped[record.expect] += 1
        else:
            raise ValueError(f"unknown verdict {record.expect!r} for {record.ref!r}")
    states = expected_states(records, policy)
    return Expected(
        frozenset(accepted),
        dead,
        dropped["duplicate"],
        dropped["ignored"],
        {key: (s[0], s[1], s[2], s[3]) for key, s in purchases.items()},
        sale_span,
        states,
        lifecycle_decisions(states, shipped_campaigns() if campaigns is None else campaigns),
    )
