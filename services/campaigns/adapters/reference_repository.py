"""The chain's reference data campaigns needs: store time zones and product price tiers.

Read from the same CSV files ingest's ``stores load`` and ``catalog load`` accept, so the chain
exports them once and loads them into both services. Campaigns keeps only what it decides on:
a store's zone (quiet hours) and region (audiences), a product's category and price tier
(up-sell offers the next tier of the same category). A file with one bad line loads nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.csv_rows import CsvRowError, iana_time_zone, last_per_key, read_rows

STORE_COLUMNS = ("store_id", "name", "timezone", "region", "city")
PRODUCT_COLUMNS = ("sku", "name", "category", "brand", "price_tier")

# Ingest keeps price_tier as the free text of the export; up-sell needs an order. Labels map to
# ranks (higher = dearer); a file may also give the rank itself as a positive whole number.
PRICE_TIER_RANKS = {
    "budget": 1,
    "economy": 1,
    "low": 1,
    "mid": 2,
    "medium": 2,
    "standard": 2,
    "high": 3,
    "premium": 4,
    "luxury": 5,
}


class ReferenceFileError(ValueError):
    """A reference CSV cannot be loaded; the message names the file's line. Nothing was loaded."""


@dataclass(frozen=True)
class StoreZone:
    store_id: str
    timezone: str  # IANA name, checked with zoneinfo
    region: str | None


@dataclass(frozen=True)
class CatalogProduct:
    sku: str
    name: str
    category: str
    price_tier: int | None  # rank, higher = dearer; None when the export leaves it empty


def price_tier_rank(label: str) -> int | None:
    """The rank of a price-tier cell: a known label or a positive whole number; None if neither."""
    if label.isascii() and label.isdigit() and int(label) > 0:
        return int(label)
    return PRICE_TIER_RANKS.get(label.casefold())


def _price_tier_problem(label: str) -> str | None:
    if price_tier_rank(label) is not None:
        return None
    return f"price_tier {label!r} is neither a positive number nor one of {sorted(PRICE_TIER_RANKS)}"


def stores_from_csv(text: str) -> list[StoreZone]:
    """Stores from ``store_id,name,timezone,region,city``; raises ReferenceFileError naming the line."""
    try:
        rows = read_rows(
            text, STORE_COLUMNS, required=("store_id", "name", "timezone"), checks={"timezone": iana_time_zone}
        )
    except CsvRowError as exc:
        raise ReferenceFileError(str(exc)) from None
    return [
        StoreZone(row.values["store_id"], row.values["timezone"], row.values["region"] or None)
        for row in last_per_key(rows, "store_id")
    ]


def products_from_csv(text: str) -> list[CatalogProduct]:
    """Products from ``sku,name,category,brand,price_tier``; raises ReferenceFileError naming the line."""
    try:
        rows = read_rows(
            text, PRODUCT_COLUMNS, required=("sku", "name", "category"), checks={"price_tier": _price_tier_problem}
        )
    except CsvRowError as exc:
        raise ReferenceFileError(str(exc)) from None
    return [
        CatalogProduct(
            row.values["sku"], row.values["name"], row.values["category"], price_tier_rank(row.values["price_tier"])
        )
        for row in last_per_key(rows, "sku")
    ]


def read_stores_file(path: Path) -> list[StoreZone]:
    return stores_from_csv(_text(path))


def read_products_file(path: Path) -> list[CatalogProduct]:
    return products_from_csv(_text(path))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReferenceFileError(f"not UTF-8 text (byte {exc.start}); export the file as CSV UTF-8") from None


async def upsert_stores(conn: Any, stores: Iterable[StoreZone]) -> int:
    """Insert or refresh stores; call inside a transaction so a failed load leaves nothing behind."""
    rows = [(s.store_id, s.timezone, s.region) for s in stores]
    await conn.executemany(
        """INSERT INTO stores (store_id, timezone, region) VALUES ($1, $2, $3)
           ON CONFLICT (store_id) DO UPDATE SET timezone = excluded.timezone, region = excluded.region""",
        rows,
    )
    return len(rows)


async def upsert_products(conn: Any, products: Iterable[CatalogProduct]) -> int:
    """Insert or refresh products; call inside a transaction so a failed load leaves nothing behind."""
    rows = [(p.sku, p.name, p.category, p.price_tier) for p in products]
    await conn.executemany(
        """INSERT INTO products (sku, name, category, price_tier) VALUES ($1, $2, $3, $4)
           ON CONFLICT (sku) DO UPDATE
           SET name = excluded.name, category = excluded.category, price_tier = excluded.price_tier""",
        rows,
    )
    return len(rows)


async def price_ladder(conn: Any) -> list[tuple[str, str | None, int | None]]:
    """Every product as (sku, category, price tier rank), the input of up-sell's next-tier map."""
    rows = await conn.fetch("SELECT sku, category, price_tier FROM products ORDER BY sku")
    return [(row["sku"], row["category"], row["price_tier"]) for row in rows]


async def store_zones(conn: Any) -> dict[str, tuple[str, str | None]]:
    """Store id → (IANA time zone, region): members are reached in their home store's local time."""
    rows = await conn.fetch("SELECT store_id, timezone, region FROM stores")
    return {row["store_id"]: (row["timezone"], row["region"]) for row in rows}
