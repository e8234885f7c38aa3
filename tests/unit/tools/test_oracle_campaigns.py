"""The oracle's fold of campaigns' rules: which decisions a person's events must lead to, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.campaigns.domain.holdout import in_holdout
from services.campaigns.entrypoints.settings import CampaignsSettings
from tools.oracle import expected_states
from tools.oracle.campaigns import ExpectedDecision, Registries, Rules, expected_decisions
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
