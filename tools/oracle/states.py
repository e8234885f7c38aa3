"""``expected_states(records)``: each person's final lifecycle and tiers, scoring's rules folded over their events.

Every accepted record carries the event ingest must make of it (``SimRecord.meaning``). This folds
scoring's domain rules (``services.scoring.domain``, nothing of its service layer) over each
person's events in the order they reach scoring, then runs the reviews due by the run's final
watermark: the latest event time less the allowed lateness, where scoring's sweeper stops.

The order is the moment upstream sends a record (``SimRecord.at``). That is event time for every
record but a web-shop refund, which ingest dates at the order's payment: scoring reads it when
it arrives and folds it in at the member's clock (``apply_event``), and so does this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.scoring.domain.events import apply_event
from services.scoring.domain.lifecycle import Transition, advance
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from shared.contracts import (
    ChatKind,
    CommunityAction,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseKind,
)
from tools.simulate.model import Meaning, Route, SimRecord

# Scoring's default (MP_SCORING_ALLOWED_LATENESS_SECONDS).
DEFAULT_LATENESS = timedelta(minutes=5)


@dataclass(frozen=True)
class Change:
    """One state change scoring must record and publish: its version, event time and what it changed to."""

    version: int
    at: datetime
    lifecycle: str
    engagement_tier: str
    reasons: tuple[str, ...]

    def row(self) -> tuple[int, datetime, str, str, tuple[str, ...]]:
        """As scoring records it in ``transitions``: (version, at, lifecycle, tier, reasons)."""
        return (self.version, self.at, self.lifecycle, self.engagement_tier, self.reasons)


@dataclass(frozen=True)
class ExpectedState:
    lifecycle: str
    engagement_tier: str
    value_tier: str | None
    # Every change of lifecycle or engagement tier on the way, oldest first.
    changes: tuple[Change, ...] = ()
    # The person's events, in the order they were sent: (upstream event id, event time).
    events: tuple[tuple[str, datetime], ...] = ()
    # Those of them the upstream POSTed to ingest's webhook (the web shop's batches).
    by_webhook: frozenset[str] = frozenset()
    # The changes as scoring's rules make them, with the state before and after (not yet scored):
    # what campaigns hears of the person (tools/oracle/campaigns.py).
    transitions: tuple[Transition, ...] = ()


def expected_states(
    records: Iterable[SimRecord], policy: Policy | None = None, lateness: timedelta = DEFAULT_LATENESS
) -> dict[bytes, ExpectedState]:
    """Per person (the generator's partition key): the state scoring must end a run with.

    ``policy``: the rules and model scoring ran with; the default is a service that was never fitted.
    """
    policy = policy or Policy()
    sent: dict[bytes, list[tuple[datetime, str, Meaning]]] = defaultdict(list)
    by_webhook: set[str] = set()
    for record in records:
        if record.expect == "accepted" and record.meaning is not None:
            sent[record.key].append((record.at, record.ref, record.meaning))
            if record.route is Route.HTTP:
                by_webhook.add(record.ref)
    if not sent:
        return {}
    watermark = max(meaning.occurred_at for mine in sent.values() for _, _, meaning in mine) - lateness
    out = {}
    for person, mine in sent.items():
        member_id = person.decode()
        mine.sort(key=lambda item: item[0])  # stable: simultaneous records keep the log's order
        state: MemberState | None = None
        transitions: list[Transition] = []
        for _, ref, meaning in mine:
            state, made = apply_event(state, event_of(member_id, ref, meaning), policy)
            transitions += made
        if state is not None:
            state, made = advance(state, watermark, policy)
            transitions += made
            value = state.value_tier.value if state.value_tier is not None else None
            changes = tuple(change_of(t) for t in transitions)
            events = tuple((ref, meaning.occurred_at) for _, ref, meaning in mine)
            webhook = frozenset(ref for ref, _ in events if ref in by_webhook)
            out[person] = ExpectedState(
                state.lifecycle.value, state.engagement_tier.value, value, changes, events, webhook, tuple(transitions)
            )
    return out


def late_events(
    states: Mapping[bytes, ExpectedState], published_ms: Mapping[str, int], lateness: timedelta = DEFAULT_LATENESS
) -> set[str]:
    """The events (upstream ids) that came late from upstream: sent over the webhook, and older, by
    more than ``lateness``, than an event anyone's that ingest had published before them.

    ``published_ms``: when ingest published each event. Scoring's sweeper reviews members up to
    the latest event time less the lateness, so by the time such an event arrives its member may
    have been reviewed past it; scoring then folds it in at the member's clock (``apply_event``),
    as event-time processing must, and the member may rightly end elsewhere than the in-order fold.
    The web shop's webhook batches come in behind the Kafka records: real lateness, that nothing
    downstream can know of in advance. Records on the raw topics are never late, however ingest
    fares: its progress marks make scoring wait for every replica's share (docs/ingest.md).
    """
    events = sorted(
        (published_ms.get(ref, 0), at, ref, ref in state.by_webhook)
        for state in states.values()
        for ref, at in state.events
    )
    late: set[str] = set()
    latest: datetime | None = None
    for _, at, ref, by_webhook in events:
        if by_webhook and latest is not None and at < latest - lateness:
            late.add(ref)
        latest = at if latest is None else max(latest, at)
    return late


def change_of(transition: Transition) -> Change:
    after = transition.after
    return Change(
        after.state_version, transition.at, after.lifecycle.value, after.engagement_tier.value, tuple(after.reasons)
    )


def event_of(member_id: str, ref: str, meaning: Meaning) -> MemberEvent:
    """The canonical event a meaning stands for, with only what scoring's rules read.

    Built unvalidated: the meaning is the generator's own, and a run folds hundreds of thousands.
    """
    common: dict[str, Any] = {
        "member_id": member_id,
        "occurred_at": meaning.occurred_at,
        "source": "oracle",
        "source_event_id": ref,
    }
    if meaning.topic == "chat":
        kind = ChatKind(meaning.kind)
        return MemberChatV1.model_construct(**common, community_id=meaning.community_id, kind=kind, text=meaning.text)
    if meaning.topic == "community":
        action = CommunityAction(meaning.kind)
        return MemberCommunityV1.model_construct(**common, community_id=meaning.community_id, action=action)
    if meaning.topic == "purchase":
        # Channel, currency and lines are not read by the rules; the store makes the home store.
        return MemberPurchaseV1.model_construct(
            **common,
            purchase_id=ref,
            kind=PurchaseKind(meaning.kind),
            total_minor=meaning.total_minor,
            lines=(),
            store_id=meaning.store_id,
        )
    raise ValueError(f"unknown topic {meaning.topic!r} in the meaning of {ref!r}")
