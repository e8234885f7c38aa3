"""``ecom_order``: the web shop sends every version of an order, each with its cumulative refund."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.domain.formats import ecom_order
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import IdKind, LineDraft, OrderStatus, OrderVersion
from tests.unit.ingest.purchase_support import NOW, order_version, utc
from tests.unit.ingest.support import CTX, SALT, fixture, json_fixture, rejection

PAID = "jpy_v1_paid.json"
PARTIAL = "jpy_v2_partially_refunded.json"
ITEMS = [
    {"sku": "JP-MATCHA-30", "quantity": 3, "price": "2800"},
    {"sku": "JP-CHAWAN-01", "quantity": 1, "price": "12000"},
]


def _order(name: str = PAID, **changes: Any) -> OrderVersion:
    body = ecom_order.parse(json_fixture("ecom_order", name, **changes), CTX).body
    assert isinstance(body, OrderVersion)
    return body


def _code(name: str = PAID, **changes: Any) -> str:
    return rejection(ecom_order.parse, json_fixture("ecom_order", name, **changes))


def test_a_paid_yen_order_becomes_an_order_version_in_whole_yen() -> None:
    order = order_version(PAID)

    assert (order.order_id, order.version, order.status) == ("WEB-JP-2026-000731", 1, OrderStatus.PAID)
    assert order.currency == "JPY"
    assert order.items == (LineDraft("JP-MATCHA-30", 3, 2800), LineDraft("JP-CHAWAN-01", 1, 12000))
    assert (order.refunded_items, order.refunded_minor) == ((), 0)


def test_paid_at_becomes_the_order_time_in_utc() -> None:
    assert order_version(PAID).occurred_at == utc(2026, 11, 18, 12, 3, 12)


def test_each_version_is_its_own_record_keyed_by_order_and_version() -> None:
    parsed = ecom_order.parse(fixture("ecom_order", PARTIAL), CTX)

    assert (parsed.source, parsed.dedup_source, parsed.dedup_key) == (
        "ecom_order",
        "ecom_order",
        "WEB-JP-2026-000731:v2",
    )


def test_the_shop_customer_names_the_member_before_the_unionid_and_the_phone() -> None:
    parsed = ecom_order.parse(fixture("ecom_order", PAID), CTX)

    assert parsed.identifiers == (
        identifier(IdKind.SHOP_CUSTOMER_ID, "cust-88123", SALT),
        identifier(IdKind.WECHAT_UNIONID, "oUnion-7f3a9c2e", SALT),
        identifier(IdKind.PHONE, "+819012345678", SALT),
    )


@pytest.mark.parametrize("customer", [{}, {"customer_id": "", "unionid": None}, ...])
def test_an_order_naming_no_customer_is_empty_identity(customer: object) -> None:
    assert _code(customer=customer) == "empty_identity"


def test_a_partial_refund_is_carried_as_cumulative_units_priced_as_ordered_and_an_amount() -> None:
    order = order_version(PARTIAL)

    assert order.status is OrderStatus.PARTIALLY_REFUNDED
    assert order.refunded_items == (LineDraft("JP-MATCHA-30", 1, 2800),)
    assert order.refunded_minor == 2800


def test_refund_entries_for_one_sku_add_up() -> None:
    refund = {
        "items": [{"sku": "JP-MATCHA-30", "quantity": 1}, {"sku": "JP-MATCHA-30", "quantity": 2}],
        "amount": "8400",
    }

    assert _order(PARTIAL, refund=refund).refunded_items == (LineDraft("JP-MATCHA-30", 3, 2800),)


def test_a_refund_of_money_without_goods_has_no_refunded_items() -> None:
    order = _order(PARTIAL, refund={"amount": "500"})

    assert (order.refunded_items, order.refunded_minor) == ((), 500)


def test_a_cancelled_order_that_was_never_paid_has_no_paid_at_and_is_dated_when_ingest_learns_of_it() -> None:
    order = order_version("cny_cancelled_unpaid.json")

    assert order.status is OrderStatus.CANCELLED
    assert order.occurred_at == NOW
    assert order.items == (LineDraft("TEA-LJ-250", 1, 26800),)


def test_yuan_prices_with_fen_become_minor_units() -> None:
    assert _order(currency="CNY", items=[{"sku": "TEA-LJ-250", "quantity": 1, "price": "268.50"}]).items == (
        LineDraft("TEA-LJ-250", 1, 26850),
    )


@pytest.mark.parametrize("status", ["refunded", "partially_refunded"])
def test_a_refunded_order_without_its_refund_is_a_missing_field(status: str) -> None:
    assert _code(status=status) == "missing_field"


def test_a_refund_above_the_order_total_is_a_total_mismatch() -> None:
    assert _code(PARTIAL, refund={"items": [], "amount": "20401"}) == "total_mismatch"


def test_a_refund_of_a_sku_the_order_does_not_have_is_rejected() -> None:
    assert _code(PARTIAL, refund={"items": [{"sku": "TEA-LJ-250", "quantity": 1}], "amount": "0"}) == "invalid_field"


def test_refunding_more_units_than_were_ordered_is_an_invalid_quantity() -> None:
    refund = {"items": [{"sku": "JP-CHAWAN-01", "quantity": 1}, {"sku": "JP-CHAWAN-01", "quantity": 1}], "amount": "0"}

    assert _code(PARTIAL, refund=refund) == "invalid_quantity"


@pytest.mark.parametrize("refund", ["2800", [], {"items": []}, {"items": "JP-MATCHA-30", "amount": "1"}])
def test_a_malformed_refund_is_rejected(refund: object) -> None:
    assert _code(PARTIAL, refund=refund) in {"invalid_field", "missing_field"}


@pytest.mark.parametrize("price", ["2800.5", "-1", "12,000", 2800.0, None])
def test_prices_are_exact_non_negative_decimals_in_the_currency(price: object) -> None:
    code = "missing_field" if price is None else "invalid_amount"

    assert _code(items=[{"sku": "JP-MATCHA-30", "quantity": 1, "price": price}]) == code


def test_an_integer_price_is_read_in_major_units() -> None:
    assert _order(items=[{"sku": "JP-MATCHA-30", "quantity": 1, "price": 2800}]).items[0].unit_price_minor == 2800


def test_a_sku_also_listed_as_a_free_gift_is_refunded_at_its_paid_price() -> None:
    items = [*ITEMS, {"sku": "JP-MATCHA-30", "quantity": 1, "price": "0"}]
    refund = {"items": [{"sku": "JP-MATCHA-30", "quantity": 4}], "amount": "8400"}

    order = _order(PARTIAL, items=items, refund=refund)

    assert len(order.items) == 3
    assert order.refunded_items == (LineDraft("JP-MATCHA-30", 4, 2800),)


def test_one_sku_on_two_lines_at_one_price_is_accepted() -> None:
    assert len(_order(items=[*ITEMS, ITEMS[0]]).items) == 3


@pytest.mark.parametrize(
    ("quantity", "code"), [(0, "invalid_quantity"), (-1, "invalid_quantity"), (None, "missing_field")]
)
def test_item_quantities_are_positive_whole_units(quantity: object, code: str) -> None:
    assert _code(items=[{"sku": "JP-MATCHA-30", "quantity": quantity, "price": "2800"}]) == code


@pytest.mark.parametrize(("items", "code"), [(..., "missing_field"), ([], "missing_field"), ([1], "invalid_field")])
def test_an_order_needs_a_non_empty_array_of_item_objects(items: object, code: str) -> None:
    assert _code(items=items) == code


@pytest.mark.parametrize(
    ("version", "code"), [(..., "missing_field"), (0, "invalid_field"), ("2", "invalid_field"), (True, "invalid_field")]
)
def test_the_version_is_a_positive_integer(version: object, code: str) -> None:
    assert _code(version=version) == code


@pytest.mark.parametrize(
    ("status", "code"), [("shipped", "unknown_kind"), (..., "missing_field"), (3, "invalid_field")]
)
def test_the_status_is_one_the_format_defines(status: object, code: str) -> None:
    assert _code(status=status) == code


@pytest.mark.parametrize(
    ("paid_at", "code"),
    [
        ("2026-11-18T21:03:12", "invalid_timestamp"),
        ("18/11/2026", "invalid_timestamp"),
        ("1999-12-31T23:59:59Z", "timestamp_out_of_range"),
        ("2026-11-24T00:00:01Z", "timestamp_out_of_range"),
        (..., "missing_field"),
    ],
)
def test_paid_at_is_an_rfc3339_time_with_an_offset_in_range(paid_at: object, code: str) -> None:
    assert _code(paid_at=paid_at) == code


def test_a_cancelled_order_with_a_paid_at_keeps_it() -> None:
    order = _order("cny_cancelled_unpaid.json", paid_at="2026-11-01T10:00:00+08:00")

    assert order.occurred_at == utc(2026, 11, 1, 2, 0)


def test_an_unknown_currency_is_rejected() -> None:
    assert _code(currency="XYZ") == "unknown_currency"


def test_a_broken_body_is_invalid_json() -> None:
    assert rejection(ecom_order.parse, b'{"order_id": "WEB-1", ') == "invalid_json"
