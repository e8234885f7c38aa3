"""``ecom_order``: web-shop order versions (JSON).

Every version restates the whole order and its CUMULATIVE refund. Parsing checks one version on its
own; ``purchases.apply_order_version`` compares it with the order's history to emit one sale and
refund deltas, never a second sale.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats._common import identifiers_of, json_child, json_items, kind_of, required
from services.ingest.domain.model import IdKind, LineDraft, OrderStatus, OrderVersion, Parsed
from services.ingest.domain.money import amount_minor, currency, minor_units, quantity
from services.ingest.domain.payloads import ParseContext, json_object, required_str, rfc3339

SOURCE = "ecom_order"
MAX_ITEMS = 500
MAX_SKU_CHARS = 64  # the canonical PurchaseLine's limit
# The version is kept in the order's stored state (JSONB): stay within integers every JSON reader keeps exact.
MAX_VERSION = 2**53 - 1
_STATUSES = {status.value: status for status in OrderStatus}
_REFUNDING = (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED)


def parse(body: bytes, ctx: ParseContext) -> Parsed:
    payload = json_object(body)
    order_id = required_str(payload, "order_id").strip()
    version = _version(payload.get("version"))
    status = kind_of(payload.get("status"), "status", _STATUSES)
    customer = json_child(payload, "customer", absent="empty_identity")
    candidates = [
        (IdKind.SHOP_CUSTOMER_ID, customer.get("customer_id")),
        (IdKind.WECHAT_UNIONID, customer.get("unionid")),
        (IdKind.PHONE, customer.get("phone")),
    ]
    ids = identifiers_of(candidates, ctx)
    occurred_at = _paid_at(payload, status, ctx)
    code = currency(payload.get("currency"))
    listed = json_items(payload, "items", max_items=MAX_ITEMS)
    items = tuple(_item(item, f"items[{index}]", code) for index, item in enumerate(listed))
    refunded_items, refunded_minor = _refund(payload, status, items, code)
    order = OrderVersion(
        order_id=order_id,
        version=version,
        status=status,
        occurred_at=occurred_at,
        currency=code,
        items=items,
        refunded_items=refunded_items,
        refunded_minor=refunded_minor,
    )
    return Parsed(source=SOURCE, dedup_key=f"{order_id}:v{version}", identifiers=ids, body=order)


def _version(value: object) -> int:
    if value is None:
        raise InvalidRecord("missing_field", "version is required")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise InvalidRecord("invalid_field", f"version must be an integer from 1 to {MAX_VERSION}")
    return value


def _paid_at(payload: dict[str, Any], status: OrderStatus, ctx: ParseContext) -> datetime:
    if status is OrderStatus.CANCELLED and payload.get("paid_at") in (None, ""):
        # Cancelled before payment: there is no paid_at. Should a refund still follow (the order had been
        # paid after all), it is dated when ingest learnt of the cancellation.
        return ctx.now.astimezone(UTC)
    return rfc3339(payload.get("paid_at"), "paid_at", ctx.now)


def _item(item: dict[str, Any], where: str, code: str) -> LineDraft:
    sku = required_str(item, "sku", max_length=MAX_SKU_CHARS)
    qty = quantity(required(item, "quantity", label=f"{where}.quantity"), f"{where}.quantity")
    price = minor_units(required(item, "price", label=f"{where}.price"), code, f"{where}.price")
    return LineDraft(sku=sku, qty=qty, unit_price_minor=price)


def _refund(
    payload: dict[str, Any], status: OrderStatus, items: tuple[LineDraft, ...], code: str
) -> tuple[tuple[LineDraft, ...], int]:
    """The cumulative refund: per-SKU quantities (priced as ordered) and the amount."""
    refund = payload.get("refund")
    if refund is None:
        if status in _REFUNDING:
            raise InvalidRecord("missing_field", f"refund{{items, amount}} is required when the status is {status}")
        return (), 0
    refund = json_child(payload, "refund")
    amount = minor_units(required(refund, "amount", label="refund.amount"), code, "refund.amount")
    order_total = amount_minor(sum(item.amount_minor for item in items), "the order total")
    if amount > order_total:
        raise InvalidRecord("total_mismatch", f"refund.amount {amount} exceeds the order total {order_total}")
    prices = _unit_prices(items)
    ordered = Counter[str]()
    for item in items:
        ordered[item.sku] += item.qty
    refunded = Counter[str]()
    # Absent or empty items: money back without goods back (a goodwill or price-adjustment refund).
    for index, entry in enumerate(json_items(refund, "items", max_items=MAX_ITEMS, optional=True)):
        sku = required_str(entry, "sku", max_length=MAX_SKU_CHARS)
        if sku not in prices:
            raise InvalidRecord("invalid_field", f"refund.items[{index}].sku {sku!r} is not in the order")
        refunded[sku] += quantity(required(entry, "quantity"), f"refund.items[{index}].quantity")
        if refunded[sku] > ordered[sku]:
            raise InvalidRecord("invalid_quantity", f"refund of {sku!r} exceeds the {ordered[sku]} ordered")
    lines = tuple(LineDraft(sku, refunded[sku], price) for sku, price in prices.items() if refunded[sku])
    return lines, amount


def _unit_prices(items: tuple[LineDraft, ...]) -> dict[str, int]:
    """Each SKU's unit price for refunds, in order of first appearance.

    A SKU listed twice (a free gift line of a product also bought) is priced at its highest: the refund
    amount is what counts, and ``apply_order_version`` discounts the refund lines down to it.
    """
    prices: dict[str, int] = {}
    for item in items:
        prices[item.sku] = max(prices.get(item.sku, 0), item.unit_price_minor)
    return prices
