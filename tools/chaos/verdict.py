"""Everything a run must satisfy, checked against the oracle and against each service's own input.

Each check is a named finding with a count of offences and a few examples, so a failing run says
what went wrong where, not just that something did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from tools.chaos.observe import Observed, Purchase
from tools.demo.figures.notifier import SENT
from tools.oracle import Expected
from tools.oracle.campaigns import ExpectedDecision
from tools.oracle.messages import ExpectedMessages
from tools.oracle.states import Change, late_events

_EXAMPLES = 3
# Channels whose provider honours an idempotency key ("offer_id:channel"): each send is one delivery.
_KEYED_CHANNELS = ("sms", "wechat", "webhook")


@dataclass(frozen=True)
class Finding:
    check: str
    offences: int
    examples: tuple[str, ...] = ()
    checked: int = 0
    # A tracked finding is measured and reported in every run but does not fail it: a property the
    # suite cannot promise yet (docs/reliability.md says which, and why).
    enforced: bool = True

    @property
    def ok(self) -> bool:
        return self.offences == 0

    @property
    def holds(self) -> bool:
        """What a run's verdict counts: an enforced check without offences, or a tracked one."""
        return self.ok or not self.enforced


def _finding(check: str, offending: Iterable[object], checked: int) -> Finding:
    found = sorted(str(o) for o in offending)
    return Finding(check, len(found), tuple(found[:_EXAMPLES]), checked)


def verdict(
    expected: Expected,
    seen: Observed,
    members_of: Mapping[bytes, Iterable[str]],
    offers: OfferOracle | None = None,
) -> list[Finding]:
    """Every check; ``members_of`` names the member ids each person may be known by (see ``person_members``).

    ``offers``: what the oracle says campaigns must decide and the providers must receive; without
    it, decisions and messages are checked by invariants only."""
    coverage = state_coverage(expected, seen, members_of)
    decided: list[Finding] = []
    if offers is not None:
        known_by = member_ids(coverage)
        owed = offers.decide(known_by)
        finding, agreed = _decisions_vs_oracle(owed, seen, coverage, expected, enforced=offers.decisions_enforced)
        routed = offers.route({p: owed.get(p, []) for p in agreed}, known_by)
        decided = [finding, _messages_vs_oracle(routed, seen, {p: known_by[p] for p in agreed})]
    return [
        *_ingest(expected, seen),
        _scoring(seen),
        _scoring_vs_oracle(expected, seen, members_of),
        _sale_span_vs_oracle(expected, seen, members_of),
        *_states_vs_oracle(expected, seen, coverage),
        *_campaigns(seen),
        *_lifecycle_offers_vs_oracle(expected, seen, coverage),
        *decided,
        *_notifier(seen),
    ]


def _ingest(expected: Expected, seen: Observed) -> list[Finding]:
    out = set(seen.source_event_ids)
    ingest_dead = Counter(
        {(digest, code): n for (service, digest, code), n in seen.dead_letters.items() if service == "ingest"}
    )
    downstream_dead = {key for key in seen.dead_letters if key[0] != "ingest"}
    return [
        _finding("ingest: no accepted event lost", expected.accepted - out, len(expected.accepted)),
        _finding("ingest: nothing published that the oracle rejects", out - expected.accepted, len(out)),
        _finding(
            "ingest: every event published once (event id)",
            [f"{e} x{n}" for e, n in seen.event_ids.items() if n > 1],
            len(seen.event_ids),
        ),
        _finding(
            "ingest: every upstream event published once (source event id)",
            [f"{e} x{n}" for e, n in seen.source_event_ids.items() if n > 1],
            len(seen.source_event_ids),
        ),
        _finding(
            "ingest: every bad record dead-lettered once, with its reason",
            [
                f"{key[1]} {key[0][:12]}: expected {n}, got {ingest_dead[key]}"
                for key, n in expected.dead_letters.items()
                if ingest_dead[key] != n
            ]
            + [f"{key[1]} {key[0][:12]}: not planted" for key in ingest_dead.keys() - expected.dead_letters.keys()],
            expected.dead_letters.total(),
        ),
        _finding(
            "downstream services dead-letter nothing",
            [f"{s}:{c}" for s, _, c in downstream_dead],
            seen.dead_letters.total(),
        ),
    ]


def purchase_totals(
    purchases: Iterable[Purchase], merges: Iterable[tuple[str, str]]
) -> dict[str, tuple[int, int, int, int]]:
    """The reference fold: each purchase event once, summed into the member it ends up with after every merge."""
    parent: dict[str, str] = {}
    for survivor, merged in merges:
        if merged != survivor:
            parent.setdefault(merged, survivor)

    def root(member_id: str) -> str:
        seen: set[str] = set()
        while member_id in parent and member_id not in seen:
            seen.add(member_id)
            member_id = parent[member_id]
        return member_id

    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    once = {p.event_id: p for p in purchases}
    for purchase in once.values():
        sums = totals[root(purchase.member_id)]
        if purchase.sale:
            sums[0] += 1
            sums[1] += purchase.total_minor
        else:
            sums[2] += 1
            sums[3] += abs(purchase.total_minor)
    return {member: (s[0], s[1], s[2], s[3]) for member, s in totals.items()}


def _scoring(seen: Observed) -> Finding:
    reference = purchase_totals(seen.purchases, seen.merges)
    state = {m: t for m, t in seen.scoring_totals.items() if any(t)}
    wrong = [
        f"{member}: scoring {state.get(member)} != published {reference.get(member)}"
        for member in reference.keys() | state.keys()
        if reference.get(member) != state.get(member)
    ]
    return _finding(
        "scoring: every purchase applied exactly once (sales, spend, refunds per member)", wrong, len(reference)
    )


def _scoring_vs_oracle(expected: Expected, seen: Observed, members_of: Mapping[bytes, Iterable[str]]) -> Finding:
    """Each person's purchase totals in member state, over every member id they are known by, as the oracle has them."""
    zero = (0, 0, 0, 0)
    wrong = []
    for person, want in expected.purchases.items():
        held = [seen.scoring_totals.get(member, zero) for member in members_of.get(person, ())]
        got = tuple(sum(column) for column in zip(*held, strict=True)) if held else zero
        if got != want:
            wrong.append(f"{person.decode(errors='replace')}: state {got} != oracle {want}")
    return _finding("scoring: each person's purchases in state as the oracle has them", wrong, len(expected.purchases))


def _sale_span_vs_oracle(expected: Expected, seen: Observed, members_of: Mapping[bytes, Iterable[str]]) -> Finding:
    """Each person's first and last sale in member state, over all their member ids, as the oracle has them.

    Earliest and latest are the same whatever order the sales arrive in, so this holds exactly
    even with kills, rebalances and late events.
    """
    wrong = []
    for person, want in expected.sale_span.items():
        spans = [seen.scoring_sale_span.get(member, (None, None)) for member in members_of.get(person, ())]
        firsts = [first for first, _ in spans if first is not None]
        lasts = [last for _, last in spans if last is not None]
        got = (min(firsts), max(lasts)) if firsts and lasts else None
        if got != want:
            wrong.append(f"{person.decode(errors='replace')}: state {got} != oracle {want}")
    return _finding(
        "scoring: each person's first and last sale in state as the oracle has them", wrong, len(expected.sale_span)
    )


STATE_CHECK = "scoring: each person's lifecycle and tiers as the oracle folds them"
CHANGES_CHECK = "scoring: each person's every state change as the oracle folds them"


def state_coverage(
    expected: Expected, seen: Observed, members_of: Mapping[bytes, Iterable[str]]
) -> dict[bytes, tuple[str, str | None]]:
    """Per person the oracle has a state for: how the state checks treat them, and their member id.

    ``compared``: scoring knows them by one member id and none of their events reached it behind
    its watermark. Left to the purchase checks: ``merged_or_split``, under two ids (never linked
    by an event naming both) or in a merge, since how scoring combines two members' states is its
    own rule; and ``late``, one of their events came over the webhook behind newer ones, real
    upstream lateness that scoring folds in at the member's clock (``tools.oracle.states.late_events``).
    ``missing``: not in state at all.
    """
    merged = {member for pair in seen.merges for member in pair}
    late = late_events(expected.states, seen.out_at_ms)
    out: dict[bytes, tuple[str, str | None]] = {}
    for person, want in expected.states.items():
        ids = set(members_of.get(person, ()))
        held = sorted(ids & seen.scoring_states.keys())
        if not held:
            out[person] = ("missing", None)
        elif len(held) > 1 or ids & merged:
            out[person] = ("merged_or_split", None)
        elif any(ref in late for ref, _ in want.events):
            out[person] = ("late", held[0])
        else:
            out[person] = ("compared", held[0])
    return out


def _states_vs_oracle(
    expected: Expected, seen: Observed, coverage: Mapping[bytes, tuple[str, str | None]]
) -> list[Finding]:
    """Each person's lifecycle and tiers, and every state change on the way, as the oracle folds them."""
    wrong_state, wrong_changes, compared = [], [], 0
    for person, (how, member) in coverage.items():
        name = person.decode(errors="replace")
        if how == "missing":
            wrong_state.append(f"{name}: no member in state")
        if how != "compared" or member is None:
            continue
        compared += 1
        want = expected.states[person]
        got = seen.scoring_states[member]
        if got != (want.lifecycle, want.engagement_tier, want.value_tier):
            wrong_state.append(f"{name}: {got} != oracle {(want.lifecycle, want.engagement_tier, want.value_tier)}")
        if mismatch := _first_difference(seen.scoring_changes.get(member, []), want.changes):
            wrong_changes.append(f"{name}: {mismatch}")
    return [_finding(STATE_CHECK, wrong_state, compared), _finding(CHANGES_CHECK, wrong_changes, compared)]


def state_differences(
    expected: Expected,
    seen: Observed,
    coverage: Mapping[bytes, tuple[str, str | None]],
    limit: int = 100,
) -> list[dict[str, object]]:
    """For a failed state check: each compared person whose changes differ, with their events (id,
    event time, when Kafka acknowledged the upstream record, when ingest published the event; wall
    ms) and both change lists (scoring's with when it recorded each, wall ms), to see why.
    ``coverage``: as ``state_coverage`` gives it."""
    out: list[dict[str, object]] = []
    for person, (treated, member) in coverage.items():
        if treated != "compared" or member is None or len(out) >= limit:
            continue
        want = expected.states[person]
        recorded = seen.scoring_changes.get(member, [])
        if not _first_difference(recorded, want.changes):
            continue
        out.append(
            {
                "person": person.decode(errors="replace"),
                "member_id": member,
                "events": [
                    (ref, at.isoformat(), seen.acked_at_ms.get(ref), seen.out_at_ms.get(ref)) for ref, at in want.events
                ],
                "scoring": [
                    (v, at.isoformat(), lc, tier, list(why), seen.scoring_recorded_ms.get((member, v)))
                    for v, at, lc, tier, why in recorded
                ],
                "oracle": [(v, at.isoformat(), lc, tier, list(why)) for v, at, lc, tier, why in _rows(want.changes)],
            }
        )
    return out


def _rows(changes: Iterable[Change]) -> list[tuple[int, datetime, str, str, tuple[str, ...]]]:
    return [change.row() for change in changes]


def _first_difference(recorded: list[tuple[int, datetime, str, str, tuple[str, ...]]], want: Iterable[Change]) -> str:
    changes = _rows(want)
    if recorded == changes:
        return ""
    at = next((i for i, (a, b) in enumerate(zip(recorded, changes, strict=False)) if a != b), None)
    at = min(len(recorded), len(changes)) if at is None else at
    got = recorded[at] if at < len(recorded) else None
    return f"change {at + 1} is {got}, oracle {changes[at] if at < len(changes) else None}"


def _campaigns(seen: Observed) -> list[Finding]:
    issued = Counter(seen.issued_offer_ids)
    published = seen.offers_published
    return [
        _finding("campaigns: no offer issued twice", [o for o, n in issued.items() if n > 1], len(issued)),
        _finding("campaigns: every issued offer published", issued.keys() - published.keys(), len(issued)),
        _finding("campaigns: no offer published that was not issued", published.keys() - issued.keys(), len(published)),
    ]


LIFECYCLE_DECIDED_CHECK = "campaigns: each lifecycle entry the oracle folds decided once by every campaign it triggers"
LIFECYCLE_ONLY_CHECK = "campaigns: no lifecycle decision for an entry the oracle does not fold"


def _lifecycle_offers_vs_oracle(
    expected: Expected, seen: Observed, coverage: Mapping[bytes, tuple[str, str | None]]
) -> list[Finding]:
    """The decisions of lifecycle campaigns (welcome, win-back, reactivation) against the entries
    the oracle folds (``tools.oracle.offers``), for the persons compared whose every state change is
    the oracle's: a decision is named by the state version, so a history that differs (tracked by
    the history check) names other entries."""
    decided: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for decided_for, campaign, version in seen.lifecycle_decisions:
        decided[decided_for].add((campaign, version))
    missing: list[str] = []
    unexpected: list[str] = []
    owed = made = 0
    for person, (how, member) in coverage.items():
        if how != "compared" or member is None:
            continue
        if _first_difference(seen.scoring_changes.get(member, []), expected.states[person].changes):
            continue
        name = person.decode(errors="replace")
        got = decided.get(member, set())
        must = expected.lifecycle.must.get(person, frozenset())
        may = expected.lifecycle.may.get(person, frozenset())
        owed += len(must)
        made += len(got)
        missing += [f"{name}: no {campaign} decision for state {version}" for campaign, version in sorted(must - got)]
        unexpected += [f"{name}: {campaign} decided for state {version}" for campaign, version in sorted(got - may)]
    return [
        _finding(LIFECYCLE_DECIDED_CHECK, missing, owed),
        _finding(LIFECYCLE_ONLY_CHECK, unexpected, made),
    ]


DECISIONS_CHECK = "campaigns: each person's every decision as the oracle folds them"


def member_ids(coverage: Mapping[bytes, tuple[str, str | None]]) -> dict[bytes, str]:
    """The member id each person is known by, where scoring knows them by one."""
    return {person: member for person, (_, member) in coverage.items() if member is not None}


@dataclass(frozen=True)
class OfferOracle:
    """The oracle's decisions and messages, computed once the verdict knows each person's member id
    (holdouts hash it, contacts are filed under it)."""

    decide: Callable[[Mapping[bytes, str]], Mapping[bytes, list[ExpectedDecision]]]
    route: Callable[[Mapping[bytes, list[ExpectedDecision]], Mapping[bytes, str]], ExpectedMessages]
    # One replica of campaigns and no faults: a decision unlike the oracle's fails the run. Under
    # faults, tracked. The messages of the persons whose every decision is the oracle's are held to
    # it either way: a message missing or extra at a provider is a fault the suite rules out.
    decisions_enforced: bool = False


def _decisions_vs_oracle(
    want: Mapping[bytes, list[ExpectedDecision]],
    seen: Observed,
    coverage: Mapping[bytes, tuple[str, str | None]],
    expected: Expected,
    *,
    enforced: bool,
) -> tuple[Finding, list[bytes]]:
    """Every decision of the persons compared whose every state change is the oracle's, against the
    oracle's fold of campaigns' rules in event time. Tracked where replicas are killed and paused:
    the fold reads the whole input in step, which two replicas do not while one waits for the group
    to hand its partitions over, so the other's timers and learnt affinities run ahead of them."""
    wrong: list[str] = []
    agreed: list[bytes] = []
    compared = 0
    for person, _, got, rows in _decision_lists(want, seen, coverage, expected):
        compared += 1
        if (difference := _first_decision_difference(got, rows)) is None:
            agreed.append(person)
        else:
            at, mine, theirs = difference
            wrong.append(f"{person.decode(errors='replace')}: decision {at + 1} is {mine}, oracle {theirs}")
    return replace(_finding(DECISIONS_CHECK, wrong, compared), enforced=enforced), agreed


DecisionRow = tuple[str, datetime, str, str | None]


def _decision_lists(
    want: Mapping[bytes, list[ExpectedDecision]],
    seen: Observed,
    coverage: Mapping[bytes, tuple[str, str | None]],
    expected: Expected,
) -> Iterator[tuple[bytes, str, list[DecisionRow], list[DecisionRow]]]:
    """(person, member, campaigns' decisions, the oracle's) of each person compared whose every
    state change is the oracle's, both in time order."""
    for person, (how, member) in coverage.items():
        if how != "compared" or member is None:
            continue
        if _first_difference(seen.scoring_changes.get(member, []), expected.states[person].changes):
            continue
        got = sorted(seen.decisions.get(member, []), key=_decision_order)
        rows = sorted((d.row() for d in want.get(person, [])), key=_decision_order)
        yield person, member, got, rows


def _first_decision_difference(
    got: list[DecisionRow], rows: list[DecisionRow]
) -> tuple[int, DecisionRow | None, DecisionRow | None] | None:
    if got == rows:
        return None
    at = next((i for i, (a, b) in enumerate(zip(got, rows, strict=False)) if a != b), min(len(got), len(rows)))
    return at, got[at] if at < len(got) else None, rows[at] if at < len(rows) else None


def decision_differences(
    want: Mapping[bytes, list[ExpectedDecision]],
    seen: Observed,
    coverage: Mapping[bytes, tuple[str, str | None]],
    expected: Expected,
    limit: int = 100,
) -> tuple[list[dict[str, object]], Counter[str]]:
    """For the decisions check: up to ``limit`` persons whose decisions differ, with both lists,
    and how many differ by the campaign of their first difference (the oracle's, else campaigns')."""
    out: list[dict[str, object]] = []
    first_by_campaign: Counter[str] = Counter()
    for person, member, got, rows in _decision_lists(want, seen, coverage, expected):
        if (difference := _first_decision_difference(got, rows)) is None:
            continue
        at, mine, theirs = difference
        first_by_campaign[(theirs or mine or ("?",))[0]] += 1
        if len(out) < limit:
            out.append(
                {
                    "person": person.decode(errors="replace"),
                    "member_id": member,
                    "first_difference": at + 1,
                    "campaigns": [(c, when.isoformat(), outcome, reason) for c, when, outcome, reason in got],
                    "oracle": [(c, when.isoformat(), outcome, reason) for c, when, outcome, reason in rows],
                }
            )
    return out, first_by_campaign


MESSAGES_CHECK = "notifier: each person's messages at the providers as the oracle routes their offers"


def _messages_vs_oracle(want: ExpectedMessages, seen: Observed, persons: Mapping[bytes, str]) -> Finding:
    """The messages that reached the providers, per person whose every decision is the oracle's:
    every one the oracle says must arrive, and none it does not allow (``tools.oracle.messages``)."""
    delivered: dict[str, set[tuple[str, datetime, str]]] = defaultdict(set)
    for channel, offer_id in _delivered_offers(seen):
        if (decided := seen.offer_of.get(offer_id)) is not None:
            member, campaign, at = decided
            delivered[member].add((campaign, at, channel))
    wrong: list[str] = []
    counted = 0
    for person, member in persons.items():
        got = delivered.get(member, set())
        must, may = want.must.get(person, frozenset()), want.may.get(person, frozenset())
        counted += len(must)
        name = person.decode(errors="replace")
        wrong += [
            f"{name}: no {channel} message for {campaign} at {at}" for campaign, at, channel in sorted(must - got)
        ]
        wrong += [
            f"{name}: {channel} message for {campaign} at {at}" for campaign, at, channel in sorted(got - must - may)
        ]
    return _finding(MESSAGES_CHECK, wrong, counted)


def _delivered_offers(seen: Observed) -> list[tuple[str, str]]:
    """(channel, offer id) of every message a provider received: the keyed channels by the sinks'
    idempotency keys, email by the ledger (the SMTP sink counts messages; a check holds the two equal)."""
    keyed = [(channel, _send_key(channel, key).rsplit(":", 1)[0]) for channel, key in seen.sink_keys]
    mailed = [("email", offer) for offer, channel, status in seen.sends if channel == "email" and status in SENT]
    return keyed + mailed


def _decision_order(row: DecisionRow) -> tuple[datetime, str, str, str]:
    return (row[1], row[0], row[2], row[3] or "")


def _notifier(seen: Observed) -> list[Finding]:
    offers = set(seen.offers_published)
    handled = {offer for offer, _, _ in seen.sends}
    sent = {(channel, f"{offer}:{channel}") for offer, channel, status in seen.sends if status in SENT}
    keyed = {key for key in sent if key[0] in _KEYED_CHANNELS}
    delivered = {(channel, _send_key(channel, key)) for channel, key in seen.sink_keys}
    emails = sum(1 for channel, _ in sent if channel == "email")
    return [
        _finding("notifier: every offer has an outcome", offers - handled, len(offers)),
        _finding("notifier: every message sent reached its provider", keyed - delivered, len(keyed)),
        _finding(
            "notifier: no provider got a message the ledger does not show sent", delivered - keyed, len(delivered)
        ),
        _finding(
            "notifier: no duplicate message at the providers",
            [f"{k} x{n}" for k, n in seen.sink_keys.items() if n > 1]
            + [f"smtp duplicates: {seen.smtp_duplicates}"] * bool(seen.smtp_duplicates),
            len(seen.sink_keys) + seen.smtp_messages,
        ),
        _finding(
            "notifier: one SMTP message per email sent",
            [f"{seen.smtp_messages} messages for {emails} emails sent"] * (seen.smtp_messages != emails),
            emails,
        ),
    ]


def _send_key(channel: str, key: str) -> str:
    """The sink's key without WeChat's ``touser:`` prefix (WeChat dedupes on the pair)."""
    return key.split(":", 1)[1] if channel == "wechat" else key
