"""The store registry and product catalog as loaded from CSV: validated row by row, with line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.ingest.domain.purchases import Product, Store

STORE_COLUMNS = ("store_id", "name", "timezone", "region", "city")
PRODUCT_COLUMNS = ("sku", "name", "category", "brand", "price_tier")
T = TypeVar("T", Store, Product)


class RegistryError(ValueError):
    """A registry CSV cannot be loaded; the message names the line. Nothing is loaded then."""


def stores_from_csv(text: str) -> list[Store]:
    stores = _rows(text, STORE_COLUMNS, required=("store_id", "name", "timezone"), build=Store)
    for line, store in enumerate(stores, start=2):
        try:
            ZoneInfo(store.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RegistryError(f"line {line}: {store.timezone!r} is not an IANA time zone") from None
    return stores


def products_from_csv(text: str) -> list[Product]:
    return _rows(text, PRODUCT_COLUMNS, required=("sku", "name", "category"), build=Product)


def _rows(text: str, columns: Sequence[str], *, required: Sequence[str], build: type[T]) -> list[T]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise RegistryError(f"line 1: the header lacks {missing}; expected {list(columns)}")
    built: dict[str, T] = {}
    for line, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in columns}
        empty = [c for c in required if not values[c]]
        if empty:
            raise RegistryError(f"line {line}: {empty} must not be empty")
        item = build(**values)
        built[values[columns[0]]] = item  # a later row for the same id wins, as in an upsert
    return list(built.values())
