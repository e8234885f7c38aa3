"""What the purchase tests share: the store registry and catalog fixtures, and parsed purchase fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.ingest.domain.formats import ecom_order, pos_receipt
from services.ingest.domain.model import OrderVersion, Parsed, ReceiptDraft
from services.ingest.domain.purchases import Product, Store
from tests.unit.ingest.support import CTX, FIXTURES, fixture

NOW = CTX.now
STORES = {store["store_id"]: Store(**store) for store in json.loads((FIXTURES / "catalog" / "stores.json").read_text())}
CATALOG = {item["sku"]: Product(**item) for item in json.loads((FIXTURES / "catalog" / "products.json").read_text())}
MEMBER = "m_0123456789abcdef0123456789abcdef"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parsed_receipt(name: str) -> tuple[Parsed, ReceiptDraft]:
    parsed = pos_receipt.parse(fixture("pos_receipt", name), CTX)
    assert isinstance(parsed.body, ReceiptDraft)
    return parsed, parsed.body


def order_version(name: str) -> OrderVersion:
    body = ecom_order.parse(fixture("ecom_order", name), CTX).body
    assert isinstance(body, OrderVersion)
    return body
