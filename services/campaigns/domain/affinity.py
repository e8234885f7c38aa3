"""Cross-sell affinity: which categories a member is likely to want next, learned from baskets.

Association rules over a rolling window of baskets. For a bought category `a` and a candidate `b`:

* confidence(a → b) = n_ab / n_a — how often baskets with `a` also hold `b`;
* lift(a → b) = n_ab · N / (n_a · n_b) — how much more often than if they were unrelated.

Confidence alone favours whatever everybody buys (bread, bags); lift alone favours rare pairs seen a
handful of times. A learned complement must clear both, plus a minimum number of shared baskets.
Until the chain has enough baskets to trust, or when nothing clears the bar, the configured pairs
(merchandisers' judgement) are used instead, flagged as not learned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

# Complementary categories to offer while the purchase stream is too thin to learn from: the
# merchandisers' pairs a chain starts with (MP_CAMPAIGNS_CROSS_SELL_PAIRS replaces them).
DEFAULT_PAIRS: dict[str, list[str]] = {
    "baby_formula": ["diapers", "baby_wipes"],
    "diapers": ["baby_wipes", "baby_formula"],
    "coffee": ["dairy", "bakery"],
    "dairy": ["bakery", "cereal"],
    "pasta": ["sauces", "cheese"],
    "shampoo": ["conditioner"],
    "skincare": ["cosmetics"],
}


def basket_pairs(categories: Iterable[str]) -> list[tuple[str, str]]:
    """Every unordered pair of the basket's distinct categories once, as (a, b) with a < b, sorted."""
    # Counting a basket once per pair (not per line) keeps a ten-pack of one item from looking like affinity.
    return list(combinations(sorted(set(categories)), 2))


@dataclass(frozen=True)
class AffinityCounts:
    """Basket counts over the rolling window; pairs are keyed canonically, (a, b) with a < b."""

    baskets: int
    category_baskets: Mapping[str, int]
    pair_baskets: Mapping[tuple[str, str], int]


@dataclass(frozen=True)
class AffinityRules:
    min_baskets: int = 200  # total baskets in the window before learned affinity is trusted at all
    min_pair_baskets: int = 10
    min_confidence: float = 0.05
    min_lift: float = 1.2


@dataclass(frozen=True)
class Complement:
    """A category to suggest; the statistics are None for a configured (not learned) pair."""

    category: str
    confidence: float | None
    lift: float | None
    pair_baskets: int
    learned: bool


def complements(
    category: str,
    counts: AffinityCounts,
    rules: AffinityRules,
    fallback: Mapping[str, Sequence[str]],
    exclude: Collection[str] = (),
) -> list[Complement]:
    """Complements of `category`, best first; learned when the data supports it, else the configured ones.

    `exclude` is what the member has just bought (or otherwise should not be offered); the category
    itself is never its own complement.
    """
    if counts.baskets >= rules.min_baskets:
        learned = _learned(category, counts, rules, exclude)
        if learned:
            return learned
    return _configured(category, counts, fallback, exclude)


def _learned(category: str, counts: AffinityCounts, rules: AffinityRules, exclude: Collection[str]) -> list[Complement]:
    n_a = counts.category_baskets.get(category, 0)
    if n_a <= 0:
        return []
    scored: list[tuple[float, Complement]] = []
    for (a, b), n_ab in counts.pair_baskets.items():
        if category not in (a, b) or a == b:
            continue
        other = b if a == category else a
        n_b = counts.category_baskets.get(other, 0)
        if other in exclude or n_b <= 0 or n_ab < rules.min_pair_baskets:
            continue
        confidence = n_ab / n_a
        lift = n_ab * counts.baskets / (n_a * n_b)
        if confidence >= rules.min_confidence and lift >= rules.min_lift:
            scored.append((lift * confidence, Complement(other, confidence, lift, n_ab, learned=True)))
    # Lift × confidence weighs "strongly related" against "often bought"; the name breaks ties stably.
    scored.sort(key=lambda item: (-item[0], item[1].category))
    return [complement for _, complement in scored]


def _configured(
    category: str, counts: AffinityCounts, fallback: Mapping[str, Sequence[str]], exclude: Collection[str]
) -> list[Complement]:
    seen: set[str] = set()
    configured: list[Complement] = []
    for other in fallback.get(category, ()):
        if other == category or other in exclude or other in seen:
            continue
        seen.add(other)
        # The shared-basket count is still reported (it may be 0): it shows how far from learned the pair is.
        pair = (category, other) if category < other else (other, category)
        configured.append(Complement(other, None, None, counts.pair_baskets.get(pair, 0), learned=False))
    return configured
