"""The oracle's folds of campaigns' and the notifier's rules: the decisions and messages a person is owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.campaigns.domain.holdout import in_holdout
from services.campaigns.entrypoints.settings import CampaignsSettings
from tools.oracle import expected_states
from tools.oracle.campaigns import ExpectedDecision, Registries, Rules, expected_decisions
from tools.oracle.messages import ExpectedMessages, expected_messages
from tools.oracle.offers import shipped_campaigns
from tools.simulate.model import Meaning, Route, SimRecord

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: outside quiet hours
PRODUCTS = [
    {"sku": "COFFEE-1", "category": "coffee", "price_tier": "standard"},
    {"sku": "COFFEE-2", "category": "coffee", "price_tier": "premium"},
    {"sku": "MILK-1", "category": "dairy", "price_tier": "standard"},
    {"sku": "RICE-1", "category": "rice", "price_tier": "standard"},
]
REGISTRIES = Registries.of([], PRODUCTS)


def _sale(ref: str, person: bytes, days: float, *lines: tuple[str, str, int]) -> SimRecord:
    at = AT + timedelta(days=days)
    total = sum(amount for _, _, amount in lines)
    meaning = Meaning("purchase", "sale", at, total_minor=total, lines=tuple(lines))
    return SimRecord(at, "pos_receipt", ref.encode(), person, Route.KAFKA, "accepted", ref, ("sale", total), meaning)


def _decisions(records: list[SimRecord], member_ids: dict[bytes, str] | None = None) -> list[ExpectedDecision]:
    states = expected_states(records)
    decided = expected_decisions(records, states, shipped_campaigns(), REGISTRIES, member_ids or {})
    return [d for mine in decided.values() for d in mine]


def _of(decisions: list[ExpectedDecision], campaign: str) -> list[ExpectedDecision]:
    return [d for d in decisions if d.campaign == campaign]


RICE = ("RICE-1", "rice", 3_000)


def test_a_new_member_is_welcomed_once_at_their_first_event():
    decisions = _decisions([_sale("s1", b"ann", 0, RICE), _sale("s2", b"ann", 3, RICE)])
    [welcome] = _of(decisions, "welcome")
    assert (welcome.at, welcome.outcome) == (AT, "issued")


def test_a_regular_shopper_late_for_their_own_rhythm_is_reminded_once_per_cycle():
    weekly = [_sale(f"s{n}", b"ann", 7 * n, RICE) for n in range(4)]  # days 0, 7, 14, 21, then nothing
    later = _sale("chat-clock", b"bob", 60, RICE)  # someone else's event moves the clock on
    [reminder] = _of(_decisions([*weekly, later]), "replenishment")
    assert reminder.at == AT + timedelta(days=21 + 7 * 1.1), "the last sale plus 1.1 times the mean gap"
    assert reminder.outcome in ("issued", "holdout")


def test_a_sale_before_the_reminder_is_due_moves_it_to_the_next_cycle():
    weekly = [_sale(f"s{n}", b"ann", 7 * n, RICE) for n in range(4)]
    back_early = _sale("s-early", b"ann", 21 + 7, RICE)  # day 28: before day 28.7
    later = _sale("clock", b"bob", 60, RICE)
    reminders = _of(_decisions([*weekly, back_early, later]), "replenishment")
    assert [r.at for r in reminders] == [AT + timedelta(days=28 + 7 * 1.1)]


def test_nothing_is_due_after_the_last_event_of_the_run():
    weekly = [_sale(f"s{n}", b"ann", 7 * n, RICE) for n in range(4)]
    assert _of(_decisions(weekly), "replenishment") == [], "the clock stops at the last event time"


def test_cross_sell_offers_the_configured_complement_while_there_are_too_few_baskets_to_learn_from():
    decisions = _decisions([_sale("s1", b"ann", 0, ("COFFEE-1", "coffee", 4_000))])
    [cross_sell] = _of(decisions, "cross_sell")
    assert cross_sell.category == "dairy", "coffee goes with dairy in the default pairs"


def test_a_basket_that_already_holds_the_complement_gets_the_next_one():
    decisions = _decisions([_sale("s1", b"ann", 0, ("COFFEE-1", "coffee", 4_000), ("MILK-1", "dairy", 1_000))])
    [cross_sell] = _of(decisions, "cross_sell")
    assert cross_sell.category == "bakery"


def test_holdouts_are_drawn_by_the_member_id_the_person_is_known_by():
    records = [_sale(f"s{n}", b"ann", 7 * n, RICE) for n in range(4)] + [_sale("clock", b"bob", 60, RICE)]
    held = next(f"m-{n}" for n in range(1000) if in_holdout(f"m-{n}", "replenishment", 10))
    treated = next(f"m-{n}" for n in range(1000) if not in_holdout(f"m-{n}", "replenishment", 10))
    assert _of(_decisions(records, {b"ann": held}), "replenishment")[0].outcome == "holdout"
    assert _of(_decisions(records, {b"ann": treated}), "replenishment")[0].outcome == "issued"


def test_the_oracle_decides_with_the_settings_campaigns_runs_with_by_default():
    service = CampaignsSettings().deciding()
    rules = Rules()
    assert rules.guards == service.guards
    assert rules.default_zone == service.default_zone
    assert rules.affinity == service.affinity
    assert rules.affinity_window_days == service.affinity_window_days
    assert {k: tuple(v) for k, v in rules.fallback_pairs.items()} == service.fallback_pairs


# -- messages ---------------------------------------------------------------------------------------------

BEGAN = AT + timedelta(days=20)  # the run's wall clock: a replay of the weeks before
ENDED = BEGAN + timedelta(minutes=10)
PHONE_ONLY = {"phone": "+8613800000000", "email": "", "wechat_openid": "  ", "app_user_id": ""}


def _messages(*decisions: ExpectedDecision, contact: dict[str, str] | None = PHONE_ONLY) -> ExpectedMessages:
    contacts = {b"ann": contact} if contact is not None else {}
    return expected_messages({b"ann": list(decisions)}, shipped_campaigns(), contacts, began=BEGAN, ended=ENDED)


def test_an_offer_goes_on_the_first_of_its_channels_the_member_can_be_reached_on():
    welcome = ExpectedDecision("welcome", BEGAN - timedelta(days=1), "issued", None, ("wechat", "email", "sms"))
    owed = _messages(welcome)
    assert owed.must[b"ann"] == {("welcome", welcome.at, "sms")}, "a blank openid or email reaches nobody"


def test_an_offer_expired_before_the_run_began_is_sent_nowhere_and_one_expiring_during_it_may_be_sent():
    # Replenishment coupons last 5 days.
    old = ExpectedDecision("replenishment", BEGAN - timedelta(days=5), "issued", None, ("sms",))
    on_the_edge = ExpectedDecision("replenishment", ENDED - timedelta(days=5, minutes=5), "issued", None, ("sms",))
    owed = _messages(old, on_the_edge)
    assert owed.must[b"ann"] == set()
    assert owed.may[b"ann"] == {("replenishment", on_the_edge.at, "sms")}


def test_an_offer_waiting_for_quiet_hours_to_end_after_the_run_began_may_not_have_gone_yet():
    at = BEGAN - timedelta(hours=1)
    waiting = ExpectedDecision("welcome", at, "issued", None, ("sms",), deliver_at=BEGAN + timedelta(hours=8))
    assert _messages(waiting).may[b"ann"] == {("welcome", at, "sms")}


def test_nothing_is_sent_for_a_holdout_a_suppressed_decision_or_a_member_without_a_contact_record():
    at = BEGAN - timedelta(days=1)
    held = ExpectedDecision("win_back", at, "holdout", "campaign_holdout", ("sms",))
    capped = ExpectedDecision("cross_sell", at, "suppressed", "frequency_cap")
    assert _messages(held, capped).must[b"ann"] == set()
    welcome = ExpectedDecision("welcome", at, "issued", None, ("sms",))
    assert _messages(welcome, contact=None).must[b"ann"] == set()
