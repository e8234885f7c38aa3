"""The store registry and product catalog as loaded from CSV: validated row by row, with line numbers."""

from __future__ import annotations

from collections.abc import Sequence

from services.ingest.domain.purchases import Product, Store
from shared.csv_rows import CellCheck, CsvRow, CsvRowError, iana_time_zone, last_per_key, read_rows

STORE_COLUMNS = ("store_id", "name", "timezone", "region", "city")
PRODUCT_COLUMNS = ("sku", "name", "category", "brand", "price_tier")


class RegistryError(ValueError):
    """A registry CSV cannot be loaded; the message names the line. Nothing is loaded then."""


def stores_from_csv(text: str) -> list[Store]:
    rows = _rows(text, STORE_COLUMNS, required=("store_id", "name", "timezone"), checks={"timezone": iana_time_zone})
    return [Store(**row.values) for row in rows]


def products_from_csv(text: str) -> list[Product]:
    rows = _rows(text, PRODUCT_COLUMNS, required=("sku", "name", "category"))
    return [Product(**row.values) for row in rows]


def _rows(
    text: str, columns: Sequence[str], *, required: Sequence[str], checks: dict[str, CellCheck] | None = None
) -> list[CsvRow]:
    try:
        rows = read_rows(text, columns, required=required, checks=checks)
    except CsvRowError as exc:
        raise RegistryError(str(exc)) from None
    return last_per_key(rows, columns[0])  # a later row for the same id wins, as in an upsert
