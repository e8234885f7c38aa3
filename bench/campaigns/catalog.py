"""The bench's reference data: stores per region (zones for quiet hours) and a catalog with price tiers.

Baskets only hold categories that have merchandisers' pairs (``MP_CAMPAIGNS_CROSS_SELL_PAIRS``), so
every line has a configured complement outside the basket and a cross-sell campaign that fires on
its category always yields a candidate: what the bench expects does not depend on learned affinity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.campaigns.config import REGIONS
from services.campaigns.adapters import reference_repository
from services.campaigns.adapters.reference_repository import CatalogProduct, StoreZone

STORES_PER_REGION = 5
ZONES = {"west": "Asia/Urumqi"}  # the rest of the chain keeps Beijing time
TIER_PRICES_MINOR = {1: 1_500, 2: 4_200, 3: 9_800}
SKUS_PER_TIER = 2


@dataclass(frozen=True)
class Product:
    sku: str
    category: str
    tier: int
    unit_price_minor: int


def stores() -> list[StoreZone]:
    return [
        StoreZone(f"bench-{region}-{n:02d}", ZONES.get(region, "Asia/Shanghai"), region)
        for region in REGIONS
        for n in range(STORES_PER_REGION)
    ]


def stores_of(region: str) -> list[str]:
    return [s.store_id for s in stores() if s.region == region]


def catalog(pairs: Mapping[str, Sequence[str]]) -> list[Product]:
    """Three price tiers for every category that has pairs, and for every complement they name."""
    categories = sorted({*pairs, *(c for targets in pairs.values() for c in targets)})
    return [
        Product(f"bench-{category}-t{tier}-{n}", category, tier, price + 100 * n)
        for category in categories
        for tier, price in TIER_PRICES_MINOR.items()
        for n in range(SKUS_PER_TIER)
    ]


def basket_categories(pairs: Mapping[str, Sequence[str]]) -> list[str]:
    """What baskets are made of: categories with a configured complement that is never in a basket itself."""
    return sorted(category for category, targets in pairs.items() if any(t not in pairs for t in targets))


async def load_reference(conn: Any, products: Sequence[Product]) -> None:
    await reference_repository.upsert_stores(conn, stores())
    await reference_repository.upsert_products(
        conn, [CatalogProduct(p.sku, p.sku, p.category, p.tier) for p in products]
    )
