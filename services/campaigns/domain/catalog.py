"""The price ladder of each category, for up-sell: what is the next tier up from a SKU?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise


def next_tier_map(products: Iterable[tuple[str, str | None, int | None]]) -> Mapping[str, tuple[str, str]]:
    """SKU → (SKU, category) one price tier up in the same category.

    Several SKUs at the next tier: the first by SKU, so the choice is stable. The top tier and
    SKUs without a category or tier have no next step.
    """
    ladders: dict[str, dict[int, list[str]]] = {}
    for sku, category, tier in products:
        if category is not None and tier is not None:
            ladders.setdefault(category, {}).setdefault(tier, []).append(sku)
    out: dict[str, tuple[str, str]] = {}
    for category, tiers in ladders.items():
        steps = sorted(tiers)
        for lower, upper in pairwise(steps):
            target = min(tiers[upper])
            for sku in tiers[lower]:
                out[sku] = (target, category)
    return out
