"""Trigger kinds: what fires a candidate, and what it offers."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.campaigns.domain.affinity import AffinityCounts, AffinityRules, complements
from services.campaigns.domain.attribution import converted_revenue, refunded_revenue
from services.campaigns.domain.catalog import next_tier_map
from services.campaigns.domain.triggers import (
    Basket,
    Line,
    StateChange,
    cross_sell_candidates,
    entering_by_lifecycle,
    interest_firings,
    lifecycle_candidates,
    mentioned_categories,
    replenishment_candidates,
    replenishment_due,
    replenishments_between,
    up_sell_candidates,
)
from shared.contracts import Lifecycle
from tests.unit.campaigns.builders import NOON, campaign

WIN_BACK = campaign("win_back")
REACTIVATION = campaign("reactivation", trigger={"kind": "lifecycle_entered", "lifecycle": "dormant"})
CROSS_SELL = campaign("cross_sell", trigger={"kind": "cross_sell"})
UP_SELL = campaign("up_sell", trigger={"kind": "up_sell", "min_line_amount_minor": 1_000})
REPLENISH = campaign("replenishment", trigger={"kind": "replenishment", "cadence_factor": 1.0})
THIN = AffinityCounts(baskets=0, category_baskets={}, pair_baskets={})
PAIRS = {"diapers": ("baby_wipes", "baby_formula")}


def basket(*lines: Line, purchase_id: str = "p-1") -> Basket:
    return Basket("m-1", purchase_id, NOON, lines, sum(line.amount_minor for line in lines))


def test_entering_at_risk_fires_win_back_and_staying_there_does_not():
    entered = StateChange("m-1", NOON, Lifecycle.AT_RISK, Lifecycle.ACTIVE, 7)
    stayed = StateChange("m-1", NOON, Lifecycle.AT_RISK, Lifecycle.AT_RISK, 8)
    [fired] = lifecycle_candidates(entered, [WIN_BACK, REACTIVATION])
    assert (fired.campaign.id, fired.occurrence) == ("win_back", "state:7")
    assert lifecycle_candidates(stayed, [WIN_BACK, REACTIVATION]) == []


def test_one_trigger_occurrence_always_yields_the_same_offer_id():
    change = StateChange("m-1", NOON, Lifecycle.AT_RISK, Lifecycle.ACTIVE, 7)
    [a] = lifecycle_candidates(change, [WIN_BACK])
    [b] = lifecycle_candidates(change, [WIN_BACK])
    assert a.offer_id == b.offer_id
    assert a.key == b.key


def test_cross_sell_offers_the_complement_of_the_biggest_line_and_never_what_was_just_bought():
    bought = basket(Line("sku-d1", "diapers", 9_000), Line("sku-w1", "baby_wipes", 1_000))

    def complements_of(category, exclude):
        return complements(category, THIN, AffinityRules(), PAIRS, exclude)

    [offer] = cross_sell_candidates(bought, [CROSS_SELL], complements_of, lambda cat, skus: f"best-{cat}")
    assert offer.category == "baby_formula"  # wipes were in the basket
    assert offer.sku == "best-baby_formula"


def test_cross_sell_stays_quiet_when_nothing_complements_the_basket():
    bought = basket(Line("sku-x", "garden", 500))
    assert cross_sell_candidates(bought, [CROSS_SELL], lambda c, e: [], lambda c, s: None) == []


def test_up_sell_offers_the_next_price_tier_of_the_same_category_for_a_big_enough_line():
    ladder = next_tier_map(
        [("milk-1", "dairy", 1), ("milk-2", "dairy", 2), ("milk-3b", "dairy", 3), ("milk-3a", "dairy", 3)]
    )
    [offer] = up_sell_candidates(basket(Line("milk-2", "dairy", 1_500)), [UP_SELL], ladder.get)
    assert (offer.sku, offer.category) == ("milk-3a", "dairy")
    assert up_sell_candidates(basket(Line("milk-2", "dairy", 500)), [UP_SELL], ladder.get) == []
    assert up_sell_candidates(basket(Line("milk-3a", "dairy", 5_000)), [UP_SELL], ladder.get) == []


def test_replenishment_falls_due_one_usual_gap_after_the_last_purchase_once_per_cycle():
    first, last = NOON - timedelta(days=60), NOON - timedelta(days=20)
    assert replenishment_due(first, last, 3, [REPLENISH]) == NOON
    assert replenishment_due(first, last, 1, [REPLENISH]) is None
    [due] = replenishment_candidates("m-1", first, last, 3, NOON, [REPLENISH])
    assert due.at == NOON
    assert due.occurrence == f"replenish:{last.isoformat()}"
    assert replenishment_candidates("m-1", first, last, 3, NOON - timedelta(seconds=1), [REPLENISH]) == []


def test_two_sales_in_one_batch_still_give_the_first_its_replenishment_date_when_it_passed_between_them():
    # Counted so far: 3 sales 10 days apart, the last 20 days before noon; the usual gap is 10 days.
    before = (3, NOON - timedelta(days=40), NOON - timedelta(days=20))
    first_sale, second_sale = NOON - timedelta(days=15), NOON
    # After the first sale the gap is still 25/3 days: due then, well before the second sale.
    [due] = replenishments_between("m-1", before, [second_sale, first_sale], NOON, [REPLENISH])
    assert due.occurrence == f"replenish:{first_sale.isoformat()}"
    assert due.at == first_sale + (first_sale - before[1]) / 3
    # Back sooner than that: the member was never due.
    assert replenishments_between("m-1", before, [first_sale, first_sale + timedelta(days=2)], NOON, [REPLENISH]) == []
    # Not past the batch's clock yet: the usual timer takes over.
    assert (
        replenishments_between("m-1", before, [first_sale, second_sale], due.at - timedelta(seconds=1), [REPLENISH])
        == []
    )


def test_a_late_sale_in_a_batch_leaves_replenishment_to_the_stored_timer():
    before = (3, NOON - timedelta(days=40), NOON - timedelta(days=20))
    late, newest = NOON - timedelta(days=30), NOON
    assert replenishments_between("m-1", before, [late, newest], NOON, [REPLENISH]) == []


def test_a_new_member_s_first_sales_in_one_batch_count_from_nothing():
    sales = [NOON - timedelta(days=30), NOON - timedelta(days=20), NOON - timedelta(days=10), NOON]
    found = replenishments_between("m-1", (0, None, None), sales, NOON, [REPLENISH])
    # No rhythm after the first sale; from the second on, each date (10 days on) meets the next sale.
    assert [c.occurrence for c in found] == [f"replenish:{sales[1].isoformat()}", f"replenish:{sales[2].isoformat()}"]
    assert [c.at for c in found] == [sales[2], NOON]


def test_community_interest_reads_keywords_in_any_script_and_case():
    keywords = {"baby": ("奶粉", "Diaper"), "coffee": ("кофе",)}
    assert mentioned_categories("这个奶粉哪里买？", keywords) == {"baby"}
    assert mentioned_categories("Any DIAPERS on sale? Кофе тоже", keywords) == {"baby", "coffee"}
    assert mentioned_categories("hello", keywords) == set()


def test_a_purchase_converts_an_offer_only_inside_its_window_and_only_on_what_was_offered():
    bought = basket(Line("sku-a", "dairy", 800), Line("sku-b", "bakery", 300))
    start, end = NOON - timedelta(days=1), NOON + timedelta(days=1)
    assert converted_revenue("sku-b", None, start, end, bought) == 300
    assert converted_revenue(None, "dairy", start, end, bought) == 800
    assert converted_revenue(None, None, start, end, bought) == 1_100
    assert converted_revenue("sku-z", None, start, end, bought) is None
    assert converted_revenue("sku-a", None, NOON + timedelta(hours=1), end, bought) is None


def test_a_refund_takes_back_only_what_it_returns_of_the_lines_that_converted():
    returned = basket(Line("sku-a", "dairy", 500), Line("sku-b", "bakery", 300))
    assert refunded_revenue("sku-a", None, returned) == 500
    assert refunded_revenue(None, "bakery", returned) == 300
    assert refunded_revenue(None, None, returned) == 800, "an offer of anything converted on the whole basket"
    assert refunded_revenue("sku-z", None, returned) == 0
    assert refunded_revenue(None, "toys", returned) == 0


def _asks(member_id: str, minutes: int) -> tuple[str, datetime]:
    return (member_id, NOON + timedelta(minutes=minutes))


def _fires(asked: list[tuple[str, datetime]], points=None, fired=()) -> list[datetime]:
    points = [at for _, at in asked] if points is None else points
    return interest_firings(points, asked, fired, window=timedelta(hours=1), min_members=3, cooldown=timedelta(days=1))


def test_circle_marketing_fires_at_the_mention_that_brings_the_askers_to_the_minimum():
    asked = [_asks("a", 0), _asks("b", 10), _asks("a", 20), _asks("c", 30), _asks("d", 40)]
    assert _fires(asked) == [NOON + timedelta(minutes=30)]


def test_askers_outside_the_window_do_not_count():
    assert _fires([_asks("a", 0), _asks("b", 10), _asks("c", 70)]) == []


def test_a_member_who_asked_again_since_still_counts_at_the_earlier_moment():
    # Every mention is kept: b's second question does not hide the first one from the window at 50.
    asked = [_asks("a", 0), _asks("b", 5), _asks("c", 50), _asks("b", 90)]
    assert _fires(asked) == [NOON + timedelta(minutes=50)]


def test_however_the_points_are_split_into_rounds_it_fires_at_the_same_moments():
    asked = [_asks(m, minute) for m, minute in [("a", 0), ("b", 5), ("c", 50), ("d", 55), ("e", 59), ("f", 61)]]
    whole = _fires(asked)
    for cut in range(1, len(asked)):
        first = _fires(asked, [at for _, at in asked[:cut]])
        assert first + _fires(asked, [at for _, at in asked[cut:]], first) == whole


def test_it_fires_again_only_after_the_cooldown():
    assert _fires([_asks("a", 0), _asks("b", 1), _asks("c", 2)], fired=[NOON - timedelta(hours=23)]) == []
    assert _fires([_asks("a", 0), _asks("b", 1), _asks("c", 2)], fired=[NOON - timedelta(hours=25)]) == [
        NOON + timedelta(minutes=2)
    ]


def test_a_moment_looked_at_again_does_not_fire_within_the_cooldown_of_a_later_firing():
    # A late mention sends the campaign back: the earlier moment it now reaches is too close to the firing.
    fired = [NOON + timedelta(minutes=20)]
    assert _fires([_asks("a", 0), _asks("b", 10), _asks("c", 15), _asks("d", 20)], fired=fired) == []


def test_lifecycle_campaigns_are_grouped_by_the_state_they_wait_for() -> None:
    grouped = entering_by_lifecycle([WIN_BACK, REACTIVATION])
    for lifecycle, campaigns in grouped.items():
        assert all(c.campaign.trigger.lifecycle is lifecycle for c in campaigns)
    assert sorted(c.id for cs in grouped.values() for c in cs) == sorted(c.id for c in (WIN_BACK, REACTIVATION))
