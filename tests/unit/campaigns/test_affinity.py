"""Cross-sell affinity: learned from baskets when there are enough of them, configured pairs otherwise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pytest

from services.campaigns.domain.affinity import (
    AffinityCounts,
    AffinityRules,
    Complement,
    basket_pairs,
    complements,
)

RULES = AffinityRules()
FALLBACK = {"diapers": ["wipes", "formula"], "bread": ["butter", "jam"], "wipes": ["diapers"]}

# A thousand baskets. Diapers and wipes go together (lift 5); bread is in most baskets, so it is
# often bought with diapers without being related to them (lift 1); beer is mildly related (lift 1.67);
# formula is strongly related but seen together too rarely to trust.
COUNTS = AffinityCounts(
    baskets=1000,
    category_baskets={"diapers": 100, "wipes": 80, "bread": 600, "beer": 150, "formula": 20},
    pair_baskets={
        ("diapers", "wipes"): 40,
        ("bread", "diapers"): 60,
        ("beer", "diapers"): 25,
        ("diapers", "formula"): 5,
        ("bread", "wipes"): 48,
    },
)


def names(found: Iterable[Complement]) -> list[str]:
    return [c.category for c in found]


def counted(baskets: Iterable[Iterable[str]]) -> AffinityCounts:
    """What the rolling-window repository keeps, computed directly from baskets."""
    categories: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    total = 0
    for basket in baskets:
        distinct = set(basket)
        total += 1
        categories.update(distinct)
        pairs.update(basket_pairs(distinct))
    return AffinityCounts(baskets=total, category_baskets=categories, pair_baskets=pairs)


# -- basket_pairs ----------------------------------------------------------------------------------


def test_a_basket_yields_every_pair_of_its_categories_once_in_canonical_order() -> None:
    assert basket_pairs(["milk", "bread", "milk", "eggs"]) == [("bread", "eggs"), ("bread", "milk"), ("eggs", "milk")]


@pytest.mark.parametrize("basket", [[], ["milk"], ["milk", "milk"]])
def test_a_basket_of_fewer_than_two_categories_yields_no_pairs(basket: list[str]) -> None:
    assert basket_pairs(basket) == []


# -- learned complements ---------------------------------------------------------------------------


def test_wipes_are_learned_as_the_complement_of_diapers() -> None:
    found = complements("diapers", COUNTS, RULES, FALLBACK)
    assert found[0] == Complement("wipes", confidence=0.4, lift=5.0, pair_baskets=40, learned=True)


def test_complements_come_best_first() -> None:
    # Wipes (lift 5 × confidence 0.4) before beer (1.67 × 0.25).
    assert names(complements("diapers", COUNTS, RULES, FALLBACK)) == ["wipes", "beer"]


def test_a_popular_category_bought_alongside_by_chance_is_not_a_complement() -> None:
    # 60 % of diaper baskets hold bread, but so do 60 % of all baskets: lift 1.
    assert "bread" not in names(complements("diapers", COUNTS, RULES, FALLBACK))


def test_a_pair_seen_in_too_few_baskets_is_not_trusted_however_strong() -> None:
    assert "formula" not in names(complements("diapers", COUNTS, RULES, FALLBACK))
    loose = AffinityRules(min_pair_baskets=5)
    assert "formula" in names(complements("diapers", COUNTS, loose, FALLBACK))


def test_a_pair_below_the_confidence_threshold_is_dropped() -> None:
    strict = AffinityRules(min_confidence=0.3)
    assert names(complements("diapers", COUNTS, strict, FALLBACK)) == ["wipes"]


def test_a_pair_below_the_lift_threshold_is_dropped() -> None:
    strict = AffinityRules(min_lift=2.0)
    assert names(complements("diapers", COUNTS, strict, FALLBACK)) == ["wipes"]


def test_a_pair_is_found_from_either_side_of_its_canonical_key() -> None:
    # ("diapers", "wipes") is stored once; wipes → diapers reads it from the other end.
    found = complements("wipes", COUNTS, RULES, FALLBACK)
    assert found == [Complement("diapers", confidence=0.5, lift=5.0, pair_baskets=40, learned=True)]


def test_what_was_just_bought_is_not_offered() -> None:
    assert names(complements("diapers", COUNTS, RULES, FALLBACK, exclude={"wipes"})) == ["beer"]


def test_a_category_is_never_its_own_complement() -> None:
    odd = AffinityCounts(baskets=1000, category_baskets={"diapers": 100}, pair_baskets={("diapers", "diapers"): 100})
    assert complements("diapers", odd, RULES, {}) == []


def test_ties_are_broken_by_category_name() -> None:
    counts = AffinityCounts(
        baskets=1000,
        category_baskets={"tea": 100, "lemons": 100, "honey": 100},
        pair_baskets={("lemons", "tea"): 30, ("honey", "tea"): 30},
    )
    assert names(complements("tea", counts, RULES, {})) == ["honey", "lemons"]


def test_complements_are_learned_from_counted_baskets() -> None:
    baskets = (
        [["diapers", "wipes", "bread"]] * 30
        + [["diapers", "bread"]] * 20
        + [["wipes"]] * 10
        + [["bread", "milk"]] * 190
    )
    # Every diaper basket holds bread, but so do 96 % of all baskets.
    found = complements("diapers", counted(baskets), RULES, FALLBACK)
    assert names(found) == ["wipes"]
    assert found[0].confidence == pytest.approx(30 / 50)
    assert found[0].lift == pytest.approx(30 * 250 / (50 * 40))


# -- falling back to configured pairs --------------------------------------------------------------


def test_with_too_few_baskets_the_configured_pairs_are_used() -> None:
    thin = AffinityCounts(baskets=199, category_baskets=COUNTS.category_baskets, pair_baskets=COUNTS.pair_baskets)
    found = complements("diapers", thin, RULES, FALLBACK)
    assert found == [
        Complement("wipes", confidence=None, lift=None, pair_baskets=40, learned=False),
        Complement("formula", confidence=None, lift=None, pair_baskets=5, learned=False),
    ]


def test_when_nothing_learned_passes_the_configured_pairs_are_used() -> None:
    found = complements("bread", COUNTS, RULES, FALLBACK)
    assert names(found) == ["butter", "jam"]
    assert not any(c.learned for c in found)


def test_configured_pairs_also_leave_out_what_was_just_bought() -> None:
    thin = AffinityCounts(baskets=0, category_baskets={}, pair_baskets={})
    assert names(complements("diapers", thin, RULES, FALLBACK, exclude={"wipes"})) == ["formula"]


def test_configured_pairs_drop_repeats_and_the_category_itself() -> None:
    thin = AffinityCounts(baskets=0, category_baskets={}, pair_baskets={})
    fallback = {"diapers": ["wipes", "diapers", "wipes", "formula"]}
    assert names(complements("diapers", thin, RULES, fallback)) == ["wipes", "formula"]


def test_a_category_with_neither_data_nor_configuration_has_no_complements() -> None:
    assert complements("garden hoses", COUNTS, RULES, FALLBACK) == []
