"""The chaos suite's pure parts: the oracle, the seeded fault plan and the verdict's checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tools.chaos.observe import Observed, Purchase
from tools.chaos.plan import Dose, FaultKind, draw, tally
from tools.chaos.scenarios import Outcome
from tools.chaos.verdict import (
    Finding,
    OfferOracle,
    decision_differences,
    purchase_totals,
    state_coverage,
    state_differences,
    verdict,
)
from tools.oracle import Expected, ExpectedState, body_digest, expected
from tools.oracle.campaigns import ExpectedDecision
from tools.oracle.messages import ExpectedMessages
from tools.oracle.offers import entries, lifecycle_decisions, shipped_campaigns
from tools.oracle.states import Change, late_events
from tools.simulate import ChainSpec, Route, SimRecord, simulate
from tools.simulate.model import Meaning

AT = datetime(2026, 5, 1, tzinfo=UTC)


def _record(
    ref: str, expect: str, body: bytes | None = None, *, key: bytes = b"k", amount: tuple[str, int] | None = None
) -> SimRecord:
    return SimRecord(AT, "chat_json", body or ref.encode(), key, Route.KAFKA, expect, ref, amount)


def _failed(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings if not f.ok}


# -- the oracle -------------------------------------------------------------------------------------------


def test_the_oracle_sorts_every_record_by_the_verdict_it_is_owed():
    oracle = expected(
        [
            _record("a", "accepted"),
            _record("b", "accepted"),
            _record("a", "duplicate"),
            _record("m", "ignored"),
            _record("x", "dlq:invalid_json", b"{broken"),
            _record("y", "dlq:invalid_json", b"{broken"),
        ]
    )
    assert oracle.accepted == {"a", "b"}
    assert oracle.duplicates == 1
    assert oracle.ignored == 1
    assert oracle.dead_letters == Counter({(body_digest(b"{broken"), "invalid_json"): 2})
    assert oracle.records == 6


def test_the_oracle_sums_each_persons_accepted_purchases_and_ignores_the_dropped_ones():
    oracle = expected(
        [
            _record("r1", "accepted", key=b"ann", amount=("sale", 1_000)),
            _record("r2", "accepted", key=b"ann", amount=("sale", 250)),
            _record("r1", "duplicate", key=b"ann", amount=("sale", 1_000)),
            _record("r3", "accepted", key=b"ann", amount=("refund", 250)),
            _record("r4", "accepted", key=b"bob", amount=("sale", 99)),
            _record("c1", "accepted", key=b"bob"),
        ]
    )
    assert oracle.purchases == {b"ann": (2, 1_250, 1, 250), b"bob": (1, 99, 0, 0)}


def test_every_purchase_the_generator_writes_carries_its_amount():
    spec = ChainSpec(members=120, months=4, seed=2, end=AT, run="t")
    purchases = [r for r in simulate(spec).records if r.source_format in ("pos_receipt", "purchases_csv", "ecom_order")]
    accepted = [r for r in purchases if r.expect == "accepted"]
    assert accepted
    assert all(r.amount is not None and r.amount[0] in ("sale", "refund") and r.amount[1] > 0 for r in accepted)
    assert {r.amount[0] for r in accepted if r.amount} == {"sale", "refund"}


def test_the_oracle_refuses_an_input_log_that_accepts_one_upstream_id_twice():
    with pytest.raises(ValueError, match="accepted twice"):
        expected([_record("a", "accepted"), _record("a", "accepted")])


def test_the_oracle_of_a_hostile_history_expects_the_planted_share_of_dead_letters():
    spec = ChainSpec(members=150, months=4, seed=5, end=AT, run="t", backfill_months=0, bad_share=0.25)
    sim = simulate(spec)
    oracle = expected(sim.records)
    good = len(oracle.accepted) + oracle.duplicates + oracle.ignored
    assert oracle.dead_letters.total() == pytest.approx(0.25 * good, rel=0.1)
    assert len({code for _, code in oracle.dead_letters}) >= 8, "many kinds of bad input, not one"


def _said(
    ref: str, person: bytes, days: float, meaning: str = "chat:message", sent_days: float | None = None
) -> SimRecord:
    topic, kind = meaning.split(":")
    occurred = AT + timedelta(days=days)
    sent = AT + timedelta(days=days if sent_days is None else sent_days)
    total = 5_000 if topic == "purchase" else 0
    fact = Meaning(topic, kind, occurred, community_id="grp-1" if topic != "purchase" else "", total_minor=total)
    return SimRecord(sent, "chat_json", ref.encode(), person, Route.KAFKA, "accepted", ref, meaning=fact)


def test_every_accepted_record_the_generator_writes_says_what_ingest_must_make_of_it():
    spec = ChainSpec(members=150, months=4, seed=3, end=AT, run="t")
    records = simulate(spec).records
    accepted = [r for r in records if r.expect == "accepted"]
    assert all(r.meaning is not None for r in accepted)
    assert all(r.meaning is None for r in records if r.expect.startswith("dlq:") or r.expect == "ignored")
    kinds = {(r.meaning.topic, r.meaning.kind) for r in accepted if r.meaning}
    assert {("chat", "message"), ("chat", "reaction"), ("community", "follow"), ("purchase", "sale")} <= kinds
    assert all(r.meaning.occurred_at <= r.at for r in accepted if r.meaning), "a refund is dated at its payment"


def test_the_oracle_folds_each_persons_events_and_the_reviews_due_by_the_end_of_history():
    oracle = expected(
        [
            _said("q1", b"quiet", 0, "purchase:sale"),  # then nothing for a year
            _said("b1", b"busy", 0, "purchase:sale"),
            *[_said(f"b-chat-{d}", b"busy", d) for d in range(300, 365, 2)],
            _said("end", b"busy", 365, "purchase:sale"),
        ]
    )
    assert oracle.states[b"quiet"].lifecycle == "dormant", "a year without a sale or a word"
    assert oracle.states[b"busy"].lifecycle != "dormant"
    assert oracle.states[b"busy"].engagement_tier == "active", "a message every other day, kept up"
    assert oracle.states[b"quiet"].engagement_tier == "silent"


def test_the_oracle_folds_in_the_order_records_were_sent_whatever_order_the_log_lists_them():
    sale_then_words = [_said("s", b"ann", 0, "purchase:sale"), _said("w", b"ann", 200)]
    refund_sent_late = _said("r", b"ann", 0, "purchase:refund", sent_days=300)  # a web refund, dated at payment
    assert (
        expected([refund_sent_late, *sale_then_words]).states == expected([*sale_then_words, refund_sent_late]).states
    )


def test_a_chain_spec_refuses_a_bad_share_outside_zero_to_one():
    with pytest.raises(ValueError, match="bad_share"):
        ChainSpec(members=10, bad_share=1.5)


# -- the fault plan ---------------------------------------------------------------------------------------


def test_the_same_seed_draws_the_same_faults_and_another_seed_does_not():
    dose = Dose(kills=20, pauses=2)
    assert draw(3, dose, replicas=2, pause_s=14) == draw(3, dose, replicas=2, pause_s=14)
    assert draw(3, dose, replicas=2, pause_s=14) != draw(4, dose, replicas=2, pause_s=14)


def test_kills_go_round_every_service_and_every_fault_kind_is_drawn():
    faults = draw(1, Dose(kills=20, pauses=2), replicas=2, pause_s=14)
    counts = tally(faults)
    assert counts["kill"] == 20
    assert all(counts[f"kill:{s}"] == 5 for s in ("ingest", "scoring", "campaigns", "notifier"))
    assert {f.kind for f in faults} == set(FaultKind)
    assert {f.replica for f in faults if f.service} == {0, 1}
    assert all(f.down_s == 14 for f in faults if f.kind is FaultKind.PAUSE)


def test_a_dose_cannot_be_negative():
    with pytest.raises(ValueError, match="negative"):
        Dose(kills=-1)


# -- the verdict ------------------------------------------------------------------------------------------


def _healthy() -> tuple[Expected, Observed]:
    oracle = expected(
        [
            _record("a", "accepted"),
            _record("p", "accepted", amount=("sale", 500)),
            _record("x", "dlq:invalid_json", b"{"),
        ]
    )
    seen = Observed(
        event_ids=Counter({"e-a": 1, "e-p": 1, "e-merge": 1}),
        source_event_ids=Counter({"a": 1, "p": 1}),
        purchases=[Purchase("e-p", "m2", True, 500)],
        merges=[("m1", "m2")],
        dead_letters=Counter({("ingest", body_digest(b"{"), "invalid_json"): 1}),
        offers_published=Counter({"o1": 1, "o2": 2}),  # a redelivery on the topic is not a second offer
        scoring_totals={"m1": (1, 500, 0, 0), "m2": (0, 0, 0, 0)},
        scoring_sale_span={"m1": (AT, AT), "m2": (None, None)},
        issued_offer_ids=["o1", "o2"],
        sends=[("o1", "sms", "sent"), ("o2", "wechat", "delivered"), ("o2", "email", "sent")],
        sink_keys=Counter({("sms", "o1:sms"): 1, ("wechat", "openid-9:o2:wechat"): 1}),
        smtp_messages=1,
    )
    return oracle, seen


MEMBERS_OF = {b"k": {"m1", "m2"}}


def test_a_run_that_lost_and_doubled_nothing_passes_every_check():
    oracle, seen = _healthy()
    findings = verdict(oracle, seen, MEMBERS_OF)
    assert _failed(findings) == {}
    assert len(findings) >= 14


def test_a_lost_event_a_doubled_event_and_a_wrong_reason_are_each_named():
    oracle, seen = _healthy()
    seen.source_event_ids = Counter({"p": 2})
    seen.event_ids["e-p"] = 2
    seen.dead_letters = Counter({("ingest", body_digest(b"{"), "schema_violation"): 1})
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert failed["ingest: no accepted event lost"].examples == ("a",)
    assert failed["ingest: every event published once (event id)"].offences == 1
    assert failed["ingest: every upstream event published once (source event id)"].offences == 1
    assert failed["ingest: every bad record dead-lettered once, with its reason"].offences == 2


def test_a_purchase_applied_twice_by_scoring_fails_the_reference_fold():
    oracle, seen = _healthy()
    seen.scoring_totals["m1"] = (2, 1000, 0, 0)
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert list(failed) == [
        "scoring: every purchase applied exactly once (sales, spend, refunds per member)",
        "scoring: each person's purchases in state as the oracle has them",
    ]


def test_state_that_matches_ingest_but_not_the_input_fails_only_the_oracle_check():
    oracle, seen = _healthy()
    seen.purchases = [Purchase("e-p", "m2", True, 400)]  # ingest published the wrong amount
    seen.scoring_totals["m1"] = (1, 400, 0, 0)
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert list(failed) == ["scoring: each person's purchases in state as the oracle has them"]


def test_a_sale_dated_wrong_in_state_fails_only_the_sale_span_check():
    oracle, seen = _healthy()
    assert oracle.sale_span == {b"k": (AT, AT)}
    seen.scoring_sale_span["m1"] = (AT, datetime(2026, 5, 2, tzinfo=UTC))  # a sale applied at the wrong time
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert list(failed) == ["scoring: each person's first and last sale in state as the oracle has them"]


def test_the_sale_span_spans_every_member_id_of_the_person():
    oracle, seen = _healthy()
    seen.scoring_sale_span = {"m1": (None, None), "m2": (AT, AT)}  # the sale sits under the other id
    assert _failed(verdict(oracle, seen, MEMBERS_OF)) == {}


STATE_CHECK = "scoring: each person's lifecycle and tiers as the oracle folds them"
SOLO = {**MEMBERS_OF, b"solo": {"m3"}}


def _with_state(lifecycle: str = "active") -> tuple[Expected, Observed]:
    oracle, seen = _healthy()
    oracle = replace(oracle, states={b"solo": ExpectedState("active", "participant", "mid")})
    seen.scoring_states = {"m3": (lifecycle, "participant", "mid")}
    return oracle, seen


def test_a_lifecycle_other_than_the_oracle_folds_fails_only_the_state_check():
    oracle, seen = _with_state()
    assert _failed(verdict(oracle, seen, SOLO)) == {}
    oracle, seen = _with_state("at_risk")
    assert list(_failed(verdict(oracle, seen, SOLO))) == [STATE_CHECK]


CHANGES_CHECK = "scoring: each person's every state change as the oracle folds them"


def test_a_state_change_at_another_moment_fails_only_the_changes_check():
    oracle, seen = _with_state()
    change = Change(1, AT, "new", "silent", ("first_seen",))
    oracle = replace(oracle, states={b"solo": replace(oracle.states[b"solo"], changes=(change,))})
    seen.scoring_changes = {"m3": [(1, AT, "new", "silent", ("first_seen",))]}
    assert _failed(verdict(oracle, seen, SOLO)) == {}
    seen.scoring_changes = {"m3": [(1, AT + timedelta(seconds=1), "new", "silent", ("first_seen",))]}
    failed = _failed(verdict(oracle, seen, SOLO))
    assert list(failed) == [CHANGES_CHECK]
    assert failed[CHANGES_CHECK].examples[0].startswith("solo: change 1 is")


def test_a_differing_history_is_listed_with_when_each_event_reached_kafka_and_left_ingest():
    oracle, seen = _with_state()
    change = Change(1, AT, "new", "silent", ("first_seen",))
    person = replace(oracle.states[b"solo"], changes=(change,), events=(("e1", AT),))
    oracle = replace(oracle, states={b"solo": person})
    seen.scoring_changes = {"m3": [(1, AT, "new", "silent", ("first_seen",))]}
    seen.out_at_ms, seen.acked_at_ms = {"e1": 2_000}, {"e1": 1_500}
    coverage = state_coverage(oracle, seen, SOLO)
    assert state_differences(oracle, seen, coverage) == [], "the same history: nothing listed"
    seen.scoring_changes = {"m3": [(1, AT, "new", "lurker", ("first_seen",))]}
    [listed] = state_differences(oracle, seen, coverage)
    assert listed["person"] == "solo"
    assert listed["events"] == [("e1", AT.isoformat(), 1_500, 2_000)]


def test_the_oracle_records_every_change_on_the_way_to_the_final_state():
    oracle = expected([_said("q1", b"quiet", 0, "purchase:sale"), _said("e", b"other", 365)])  # history's end
    changes = oracle.states[b"quiet"].changes
    assert [c.version for c in changes] == list(range(1, len(changes) + 1))
    assert changes[0].lifecycle == "new"
    assert changes[-1].lifecycle == oracle.states[b"quiet"].lifecycle == "dormant"
    assert [c.at for c in changes] == sorted(c.at for c in changes)


def test_a_webhook_event_is_late_when_anyone_s_event_dated_more_than_the_lateness_after_it_was_published_first():
    def person(*events: tuple[str, datetime]) -> ExpectedState:
        return ExpectedState("active", "silent", None, events=events, by_webhook=frozenset(ref for ref, _ in events))

    states = {
        b"ann": person(("early", AT), ("minute", AT + timedelta(minutes=1))),
        b"bob": person(("day", AT + timedelta(days=1))),
    }
    assert late_events(states, {"early": 1, "minute": 2, "day": 3}) == set()
    assert late_events(states, {"minute": 1, "early": 2, "day": 3}) == set(), "a minute out: within the lateness"
    assert late_events(states, {"day": 1, "early": 2, "minute": 3}) == {"early", "minute"}, "behind bob's day"


def test_an_event_from_the_raw_topics_is_never_late_ingest_s_marks_make_scoring_wait_for_it():
    states = {
        b"ann": ExpectedState("active", "silent", None, events=(("early", AT),)),
        b"bob": ExpectedState("active", "silent", None, events=(("day", AT + timedelta(days=1)),)),
    }
    assert late_events(states, {"day": 1, "early": 2}) == set()


def test_a_person_whose_event_came_late_from_the_webhook_is_left_to_the_purchase_checks():
    oracle, seen = _with_state("at_risk")
    events = (("e1", AT), ("e2", AT + timedelta(days=1)))
    late_by_webhook = replace(oracle.states[b"solo"], events=events, by_webhook=frozenset({"e1"}))
    oracle = replace(oracle, states={b"solo": late_by_webhook})
    seen.out_at_ms = {"e1": 2_000, "e2": 1_000}
    check = {f.check: f for f in verdict(oracle, seen, SOLO)}[STATE_CHECK]
    assert (check.offences, check.checked) == (0, 0)
    seen.out_at_ms = {"e1": 1_000, "e2": 2_000}
    assert STATE_CHECK in _failed(verdict(oracle, seen, SOLO))


def test_a_person_in_a_merge_is_not_compared_but_a_person_missing_from_state_fails():
    oracle, seen = _with_state("at_risk")
    seen.merges.append(("m1", "m3"))
    check = {f.check: f for f in verdict(oracle, seen, SOLO)}[STATE_CHECK]
    assert (check.offences, check.checked) == (0, 0)
    seen.scoring_states = {}
    assert STATE_CHECK in _failed(verdict(oracle, seen, SOLO))


def test_a_message_sent_twice_or_never_is_caught_at_the_sinks():
    oracle, seen = _healthy()
    seen.sink_keys = Counter({("sms", "o1:sms"): 2})
    seen.smtp_messages, seen.smtp_duplicates = 2, 1
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert failed["notifier: every message sent reached its provider"].examples == ("('wechat', 'o2:wechat')",)
    assert failed["notifier: no duplicate message at the providers"].offences == 2
    assert failed["notifier: one SMTP message per email sent"].offences == 1


def test_an_offer_without_an_outcome_or_never_published_fails():
    oracle, seen = _healthy()
    seen.issued_offer_ids.append("o3")
    seen.offers_published["o4"] = 1
    failed = _failed(verdict(oracle, seen, MEMBERS_OF))
    assert failed["campaigns: every issued offer published"].examples == ("o3",)
    assert failed["campaigns: no offer published that was not issued"].examples == ("o4",)
    assert failed["notifier: every offer has an outcome"].examples == ("o4",)


def test_the_reference_fold_counts_each_purchase_event_once_into_the_surviving_member():
    purchases = [
        Purchase("e1", "a", True, 300),
        Purchase("e1", "a", True, 300),  # redelivered: the same event id
        Purchase("e2", "b", True, 200),
        Purchase("e3", "c", False, -50),
    ]
    totals = purchase_totals(purchases, [("b", "c"), ("a", "b")])
    assert totals == {"a": (2, 500, 1, 50)}


def test_a_tracked_finding_is_reported_but_does_not_fail_the_run():
    tracked = Finding("a property not promised yet", 3, ("x",), 10, enforced=False)
    enforced = Finding("a promise", 1, ("y",), 10)
    assert not tracked.ok
    assert Outcome("chaos", 1, [tracked]).passed
    assert not Outcome("chaos", 1, [tracked, enforced]).passed


def test_a_final_state_unlike_the_oracle_fails_the_run():
    oracle, seen = _with_state("at_risk")
    findings = {f.check: f for f in verdict(oracle, seen, SOLO)}
    assert findings[STATE_CHECK].enforced
    assert not findings[STATE_CHECK].ok
    assert not Outcome("chaos", 1, list(findings.values())).passed
    assert all(f.enforced for f in findings.values()), "every check of a run is enforced"


def test_a_change_history_unlike_the_oracle_fails_the_run_even_when_the_final_state_is_the_same():
    oracle, seen = _with_state()
    change = Change(1, AT, "new", "silent", ("first_seen",))
    oracle = replace(oracle, states={b"solo": replace(oracle.states[b"solo"], changes=(change,))})
    seen.scoring_changes = {"m3": [(1, AT + timedelta(seconds=1), "new", "silent", ("first_seen",))]}
    findings = verdict(oracle, seen, SOLO)
    assert list(_failed(findings)) == [CHANGES_CHECK]
    assert not Outcome("chaos", 1, findings).passed


# -- lifecycle offers -------------------------------------------------------------------------------------


def test_the_oracle_owes_a_welcome_for_each_first_state_and_a_reactivation_for_each_dormancy():
    two_sales_then_silence = [_said("q1", b"quiet", 0, "purchase:sale"), _said("q2", b"quiet", 30, "purchase:sale")]
    oracle = expected([*two_sales_then_silence, _said("e", b"other", 365)])
    changes = oracle.states[b"quiet"].changes
    dormant = next(c.version for c in changes if c.lifecycle == "dormant")
    assert oracle.lifecycle.must[b"quiet"] == {("welcome", 1), ("reactivation", dormant)}
    at_risk = {("win_back", c.version) for c in changes if c.lifecycle == "at_risk"}
    assert at_risk, "overdue against their own 30-day rhythm first"
    assert oracle.lifecycle.may[b"quiet"] == oracle.lifecycle.must[b"quiet"] | at_risk, (
        "win-back has an audience filter (P(alive), value at risk): it may decide, it need not"
    )


def test_only_a_change_of_lifecycle_is_an_entry_not_a_change_of_engagement_tier():
    person = ExpectedState(
        "active",
        "active",
        None,
        changes=(
            Change(1, AT, "new", "silent", ("first_seen",)),
            Change(2, AT, "new", "lurker", ("first_seen",)),
            Change(3, AT, "active", "lurker", ("settled_in",)),
        ),
    )
    assert entries(person) == [(1, "new"), (3, "active")]


def _with_lifecycle(decisions: list[tuple[str, str, int]]) -> tuple[Expected, Observed]:
    oracle, seen = _with_state()
    changes = (Change(1, AT, "new", "silent", ("first_seen",)), Change(2, AT, "at_risk", "silent", ("overdue",)))
    states = {b"solo": replace(oracle.states[b"solo"], changes=changes)}
    oracle = replace(oracle, states=states, lifecycle=lifecycle_decisions(states, shipped_campaigns()))
    seen.scoring_changes = {"m3": [c.row() for c in changes]}
    seen.lifecycle_decisions = Counter(decisions)
    return oracle, seen


DECIDED_CHECK = "campaigns: each lifecycle entry the oracle folds decided once by every campaign it triggers"
ONLY_CHECK = "campaigns: no lifecycle decision for an entry the oracle does not fold"


def test_a_lifecycle_entry_left_undecided_fails_and_a_decision_for_an_entry_that_never_happened_fails():
    oracle, seen = _with_lifecycle([("m3", "welcome", 1), ("m3", "win_back", 2)])
    assert _failed(verdict(oracle, seen, SOLO)) == {}
    oracle, seen = _with_lifecycle([("m3", "win_back", 2)])
    failed = _failed(verdict(oracle, seen, SOLO))
    assert list(failed) == [DECIDED_CHECK]
    assert failed[DECIDED_CHECK].examples == ("solo: no welcome decision for state 1",)
    oracle, seen = _with_lifecycle([("m3", "welcome", 1), ("m3", "reactivation", 2)])
    failed = _failed(verdict(oracle, seen, SOLO))
    assert list(failed) == [ONLY_CHECK]
    assert failed[ONLY_CHECK].examples == ("solo: reactivation decided for state 2",)


def test_win_back_behind_its_audience_filter_need_not_decide():
    oracle, seen = _with_lifecycle([("m3", "welcome", 1)])
    assert _failed(verdict(oracle, seen, SOLO)) == {}


def test_lifecycle_decisions_are_held_to_the_oracle_only_where_the_history_is_the_oracle_s():
    oracle, seen = _with_lifecycle([("m3", "reactivation", 2)])
    seen.scoring_changes["m3"][1] = (2, AT, "dormant", "silent", ("dormant",))  # scoring entered dormant
    findings = {f.check: f for f in verdict(oracle, seen, SOLO)}
    assert not findings[CHANGES_CHECK].ok, "the history check names the person"
    assert findings[DECIDED_CHECK].ok, "their decisions name other entries: not held to the oracle's"
    assert findings[ONLY_CHECK].ok


# -- every decision and message -------------------------------------------------------------------------

DECISIONS_CHECK = "campaigns: each person's every decision as the oracle folds them"
MESSAGES_CHECK = "notifier: each person's messages at the providers as the oracle routes their offers"
WELCOME = ExpectedDecision("welcome", AT, "issued", None, ("wechat", "sms"), AT)
WIN_BACK = ExpectedDecision("win_back", AT, "issued", None, ("sms",), AT)


def _owing(
    decisions: list[ExpectedDecision], must: set[tuple[str, datetime, str]] | None = None, *, decisions_enforced: bool
) -> tuple[OfferOracle, list[dict[bytes, str]]]:
    """An oracle owing ``decisions`` to the person ``solo`` and the messages ``must``; it notes the
    member ids the verdict gives it."""
    asked: list[dict[bytes, str]] = []

    def decide(known_by: Mapping[bytes, str]) -> dict[bytes, list[ExpectedDecision]]:
        asked.append(dict(known_by))
        return {b"solo": decisions}

    def route(agreed: Mapping[bytes, list[ExpectedDecision]], _: Mapping[bytes, str]) -> ExpectedMessages:
        return ExpectedMessages({p: frozenset(must or ()) for p in agreed}, {p: frozenset() for p in agreed})

    return OfferOracle(decide, route, decisions_enforced), asked


def _decided(*rows: tuple[str, str, str | None]) -> tuple[Expected, Observed]:
    oracle, seen = _with_lifecycle([("m3", "welcome", 1), ("m3", "win_back", 2)])
    seen.decisions = {"m3": [(campaign, AT, outcome, reason) for campaign, outcome, reason in rows]}
    seen.offer_of = {f"o-{campaign}": ("m3", campaign, AT) for campaign, _, _ in rows}
    return oracle, seen


def test_a_decision_unlike_the_oracle_s_is_reported_with_the_person_but_does_not_fail_a_run_with_faults():
    oracle, seen = _decided(("welcome", "issued", None), ("win_back", "suppressed", "cooldown"))
    offers, asked = _owing([WELCOME, WIN_BACK], decisions_enforced=False)
    findings = {f.check: f for f in verdict(oracle, seen, SOLO, offers)}
    assert asked == [{b"solo": "m3"}], "the oracle draws holdouts by the member id scoring knows"
    assert findings[DECISIONS_CHECK].examples == (
        f"solo: decision 2 is ('win_back', {AT!r}, 'suppressed', 'cooldown'), "
        f"oracle ('win_back', {AT!r}, 'issued', None)",
    )
    assert not findings[DECISIONS_CHECK].enforced
    assert Outcome("chaos", 1, list(findings.values())).passed, "tracked: reported, not failing"
    seen.decisions["m3"][1] = ("win_back", AT, "issued", None)
    again = {f.check: f for f in verdict(oracle, seen, SOLO, offers)}
    assert again[DECISIONS_CHECK].ok
    assert again[DECISIONS_CHECK].checked == 1


def test_where_one_replica_runs_without_faults_a_decision_unlike_the_oracle_s_fails_the_run():
    oracle, seen = _decided(("welcome", "issued", None), ("win_back", "suppressed", "cooldown"))
    offers, _ = _owing([WELCOME, WIN_BACK], decisions_enforced=True)
    findings = verdict(oracle, seen, SOLO, offers)
    assert list(_failed(findings)) == [DECISIONS_CHECK]
    assert not Outcome("hostile", 1, findings).passed


def test_a_message_the_oracle_routes_must_reach_its_provider_and_no_other_may_even_under_faults():
    oracle, seen = _decided(("welcome", "issued", None), ("win_back", "issued", None))
    offers, _ = _owing(
        [WELCOME, WIN_BACK], {("welcome", AT, "wechat"), ("win_back", AT, "sms")}, decisions_enforced=False
    )
    seen.offers_published = Counter({"o-welcome": 1, "o-win_back": 1})
    seen.issued_offer_ids = ["o-welcome", "o-win_back"]
    seen.sends = [("o-welcome", "wechat", "sent"), ("o-win_back", "sms", "sent")]
    seen.smtp_messages = 0
    seen.sink_keys = Counter({("wechat", "touser:o-welcome:wechat"): 1, ("sms", "o-win_back:sms"): 1})
    assert _failed(verdict(oracle, seen, SOLO, offers)) == {}
    seen.sends = [("o-welcome", "sms", "sent"), ("o-win_back", "sms", "sent")]
    seen.sink_keys = Counter({("sms", "o-welcome:sms"): 1, ("sms", "o-win_back:sms"): 1})
    failed = _failed(verdict(oracle, seen, SOLO, offers))
    assert list(failed) == [MESSAGES_CHECK], (
        "the notifier's own ledger agrees with the providers: only the oracle tells"
    )
    assert failed[MESSAGES_CHECK].examples == (
        f"solo: no wechat message for welcome at {AT}",
        f"solo: sms message for welcome at {AT}",
    )


def test_messages_are_held_to_the_oracle_only_for_persons_whose_every_decision_is_the_oracle_s():
    oracle, seen = _decided(("welcome", "issued", None), ("win_back", "holdout", "campaign_holdout"))
    offers, _ = _owing([WELCOME, WIN_BACK], {("win_back", AT, "sms")}, decisions_enforced=False)
    findings = {f.check: f for f in verdict(oracle, seen, SOLO, offers)}
    assert findings[MESSAGES_CHECK].checked == 0


def test_the_decision_differences_list_both_lists_and_count_persons_by_the_campaign_that_first_differs():
    oracle, seen = _decided(("welcome", "issued", None), ("win_back", "suppressed", "cooldown"))
    coverage = state_coverage(oracle, seen, SOLO)
    listed, first_by_campaign = decision_differences({b"solo": [WELCOME, WIN_BACK]}, seen, coverage, oracle)
    assert first_by_campaign == Counter({"win_back": 1})
    [solo] = listed
    assert solo["first_difference"] == 2
    assert solo["oracle"] == [("welcome", AT.isoformat(), "issued", None), ("win_back", AT.isoformat(), "issued", None)]
    seen.decisions["m3"][1] = ("win_back", AT, "issued", None)
    assert decision_differences({b"solo": [WELCOME, WIN_BACK]}, seen, coverage, oracle) == ([], Counter())
