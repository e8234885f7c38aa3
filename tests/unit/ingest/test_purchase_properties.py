"""Properties: purchase parsers reject anything with ``InvalidRecord`` alone, and orders never sell twice."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats import ecom_order, pos_receipt, purchases_csv
from services.ingest.domain.model import LineDraft, OrderStatus, OrderVersion, Parsed, ReceiptDraft
from services.ingest.domain.payloads import ParseContext
from services.ingest.domain.purchases import OrderState, apply_order_version
from shared.contracts import MemberPurchaseV1, PurchaseKind
from tests.unit.ingest.purchase_support import CATALOG, MEMBER, STORES, utc
from tests.unit.ingest.support import CTX

PROPERTY = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
PARSERS: list[Callable[[bytes, ParseContext], Parsed]] = [pos_receipt.parse, ecom_order.parse, purchases_csv.parse]

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
MISSING = object()


def _mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any] = JUNK) -> st.SearchStrategy[Any]:
    """Mostly a valid value, so whole records often pass and the paths past validation run too.

    Hypothesis favours small integers, hence valid on a low roll.
    """
    return st.integers(0, 9).flatmap(lambda roll: invalid if roll == 9 else valid)


def _fields(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    # A field is sometimes left out, so the missing-field paths run too.
    drawn = {name: draw(_mostly(value, st.just(MISSING) | JUNK)) for name, value in fields.items()}
    return {name: value for name, value in drawn.items() if value is not MISSING}


IDS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)
SKUS = _mostly(st.sampled_from([*CATALOG, "UNKNOWN-SKU"]), st.sampled_from(["", " ", "X" * 65]))
PHONES = _mostly(st.sampled_from(["13800138000", "+7 701 234 5678", "+81 90-1234-5678"]), st.sampled_from(["12", "x"]))
CURRENCIES = _mostly(st.sampled_from(["CNY", "KZT", "JPY", "EUR", "cny"]), st.sampled_from(["XXX", "RMB", ""]))
LOCAL_TIMES = _mostly(
    st.datetimes(datetime(2000, 1, 1), datetime(2026, 11, 22)), st.datetimes(datetime(1900, 1, 1))
).map(datetime.isoformat)
RFC3339_TIMES = _mostly(
    st.datetimes(datetime(2000, 1, 2), datetime(2026, 11, 21), timezones=st.timezones()),
    st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1)),
).map(datetime.isoformat)
MEMBERS = st.fixed_dictionaries({"card_no": _mostly(IDS, st.just(""))}, optional={"phone": PHONES})
RECEIPT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "receipt_id": IDS | st.integers(0, 10**9),
    "store_id": st.sampled_from([*STORES, "UNREGISTERED"]),
    "member": MEMBERS,
    "issued_at": LOCAL_TIMES,
    "currency": CURRENCIES,
    "type": _mostly(st.sampled_from(["sale", "return"]), st.just("exchange")),
    "original_receipt_id": IDS,
}


@st.composite
def receipt_lines(draw: st.DrawFn) -> dict[str, Any]:
    qty, price = draw(_mostly(st.integers(1, 12), st.integers(-2, 0))), draw(_mostly(st.integers(0, 10**6)))
    line = {"sku": draw(SKUS), "qty": qty, "unit_price_minor": price}
    if draw(st.booleans()):
        ceiling = qty * price if isinstance(qty, int) and isinstance(price, int) and qty * price > 0 else 0
        line["discount_minor"] = draw(_mostly(st.integers(0, ceiling), st.integers(-5, ceiling + 5)))
    return line


@st.composite
def pos_payloads(draw: st.DrawFn) -> bytes:
    payload = _fields(draw, RECEIPT_FIELDS)
    lines = draw(_mostly(st.lists(receipt_lines(), min_size=1, max_size=4), st.just([]) | JUNK))
    payload["lines"] = lines
    # Mostly the right total, so validation goes past the total check.
    total = sum(_line_amount(line) for line in lines) if isinstance(lines, list) else 0
    payload["total_minor"] = draw(_mostly(st.just(total), st.integers(-1, 10**7) | JUNK))
    return json.dumps(payload, ensure_ascii=draw(st.booleans())).encode()


def _line_amount(line: object) -> int:
    if not isinstance(line, dict):
        return 0
    values = [line.get("qty"), line.get("unit_price_minor"), line.get("discount_minor", 0)]
    if not all(isinstance(value, int) for value in values):
        return 0
    return int(values[0] * values[1] - values[2])


@st.composite
def ecom_payloads(draw: st.DrawFn) -> bytes:
    currency = draw(CURRENCIES)
    places = 0 if currency == "JPY" else draw(_mostly(st.integers(0, 2), st.just(3)))
    price = _mostly(st.decimals(0, 100_000, places=places).map(str), st.sampled_from(["-1", "1e999", "x"]))
    items = draw(
        _mostly(
            st.lists(
                st.fixed_dictionaries({"sku": SKUS, "quantity": _mostly(st.integers(1, 6)), "price": price}),
                min_size=1,
                max_size=4,
            ),
            st.just([]) | JUNK,
        )
    )
    ordered = (
        [item["sku"] for item in items if isinstance(item, dict) and "sku" in item] if isinstance(items, list) else []
    )
    refund_items = st.lists(
        st.fixed_dictionaries({"sku": st.sampled_from(ordered or ["NONE"]), "quantity": st.integers(1, 3)}),
        max_size=3,
    )
    payload = _fields(
        draw,
        {
            "order_id": IDS,
            "version": _mostly(st.integers(1, 20), st.sampled_from([0, -1, 2**60, "2"])),
            "status": _mostly(st.sampled_from(OrderStatus), st.just("shipped")),
            "customer": st.fixed_dictionaries(
                {"customer_id": _mostly(IDS, st.just(""))}, optional={"unionid": IDS, "phone": PHONES}
            ),
            "paid_at": RFC3339_TIMES,
            "items": st.just(items),
            "refund": st.fixed_dictionaries({"items": _mostly(refund_items), "amount": price}),
        },
    )
    payload["currency"] = currency
    return json.dumps(payload).encode()


@st.composite
def csv_bodies(draw: st.DrawFn) -> bytes:
    header = list(draw(st.permutations(purchases_csv.COLUMNS)))[: draw(_mostly(st.just(12), st.just(11)))]
    text = st.text(max_size=6)
    receipt = {name: draw(_mostly(value, text)) for name, value in RECEIPT_FIELDS.items() if name != "member"}
    receipt |= {"card_no": draw(_mostly(IDS, st.just(""))), "phone": draw(_mostly(PHONES, st.just("")))}
    lines = draw(st.lists(receipt_lines(), min_size=draw(_mostly(st.just(1), st.just(0))), max_size=4))
    rows = [{**receipt, **line, "discount_minor": line.get("discount_minor", "")} for line in lines]
    if rows and not draw(_mostly(st.just(True), st.just(False))):
        rows[-1]["receipt_id"] = "ANOTHER"  # rows that disagree on their receipt
    out = io.StringIO()
    csv.writer(out).writerows([header, *([str(row[column]) for column in header] for row in rows)])
    return ("\ufeff" if draw(st.booleans()) else "").encode() + out.getvalue().encode()


def _parses_or_rejects(parse: Callable[[bytes, ParseContext], Parsed], body: bytes) -> Parsed | None:
    try:
        return parse(body, CTX)
    except InvalidRecord:
        return None


@PROPERTY
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_parsed_or_rejected_with_invalid_record_alone(body: bytes) -> None:
    for parse in PARSERS:
        _parses_or_rejects(parse, body)


@PROPERTY
@given(body=pos_payloads())
def test_a_plausible_pos_receipt_parses_to_a_consistent_draft_or_is_rejected(body: bytes) -> None:
    parsed = _parses_or_rejects(pos_receipt.parse, body)
    if parsed is not None:
        _assert_consistent_receipt(parsed)


@PROPERTY
@given(body=csv_bodies())
def test_a_plausible_csv_receipt_parses_to_a_consistent_draft_or_is_rejected(body: bytes) -> None:
    parsed = _parses_or_rejects(purchases_csv.parse, body)
    if parsed is not None:
        _assert_consistent_receipt(parsed)


@PROPERTY
@given(body=ecom_payloads())
def test_a_plausible_ecom_order_parses_to_a_consistent_version_or_is_rejected(body: bytes) -> None:
    parsed = _parses_or_rejects(ecom_order.parse, body)
    if parsed is not None:
        order = parsed.body
        assert isinstance(order, OrderVersion)
        assert order.version >= 1
        assert order.items
        assert 0 <= order.refunded_minor <= sum(item.amount_minor for item in order.items)


@PROPERTY
@given(text=st.text(max_size=300) | csv_bodies().map(bytes.decode))
def test_splitting_any_text_yields_records_or_rejects_with_invalid_record(text: str) -> None:
    try:
        bodies = list(purchases_csv.split_receipts(text))
    except InvalidRecord:
        return
    for body in bodies:
        _parses_or_rejects(purchases_csv.parse, body)


def _assert_consistent_receipt(parsed: Parsed) -> None:
    draft = parsed.body
    assert isinstance(draft, ReceiptDraft)
    assert parsed.identifiers
    assert parsed.dedup_source == "pos"
    assert draft.lines
    assert all(line.qty > 0 and line.amount_minor >= 0 for line in draft.lines)
    assert draft.total_minor == sum(line.amount_minor for line in draft.lines)
    assert (draft.original_receipt_id is not None) == (draft.kind is PurchaseKind.REFUND)


# The order state machine

ORDER_ID = "WEB-P-1"
ITEMS = st.lists(
    st.builds(
        LineDraft, st.sampled_from(["JP-MATCHA-30", "JP-CHAWAN-01", "NEW-SKU"]), st.integers(1, 4), st.integers(0, 5000)
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def order_versions(draw: st.DrawFn, items: tuple[LineDraft, ...] | None = None) -> OrderVersion:
    """A version as the parser could produce it: a cumulative refund within the version's own order."""
    lines = items or tuple(draw(ITEMS))
    refunded = tuple(
        LineDraft(line.sku, draw(st.integers(1, line.qty)), line.unit_price_minor)
        for line in lines
        if draw(st.booleans())
    )
    return OrderVersion(
        order_id=ORDER_ID,
        version=draw(st.integers(1, 12)),
        status=draw(st.sampled_from(OrderStatus)),
        occurred_at=utc(2026, 11, 18, 12, 3, 12),
        currency="JPY",
        items=lines,
        refunded_items=refunded,
        refunded_minor=draw(st.integers(0, sum(line.amount_minor for line in lines))),
    )


@st.composite
def order_histories(draw: st.DrawFn) -> list[OrderVersion]:
    """Versions of one order in any order, redeliveries included; items fixed, or edited between versions."""
    fixed = tuple(draw(ITEMS)) if draw(st.booleans()) else None
    return draw(st.lists(order_versions(fixed), min_size=1, max_size=8))


@PROPERTY
@given(history=order_histories())
def test_whatever_order_versions_arrive_in_there_is_at_most_one_sale_and_refunds_never_exceed_it(
    history: list[OrderVersion],
) -> None:
    state: OrderState | None = None
    emitted: list[MemberPurchaseV1] = []
    for order in history:
        try:
            state, events = apply_order_version(state, order, member_id=MEMBER, catalog=CATALOG)
        except InvalidRecord as rejected:
            # Only possible when a later version shrank the order below what was already refunded.
            assert rejected.code == "total_mismatch"  # noqa: PT017 - many versions, only some raise
            continue
        emitted += events
        sales = [event for event in emitted if event.kind is PurchaseKind.SALE]
        refunds = [event for event in emitted if event.kind is PurchaseKind.REFUND]
        assert len(sales) <= 1
        assert sum(sale.total_minor for sale in sales) - sum(refund.total_minor for refund in refunds) >= 0
        assert all(refund.original_purchase_id == f"ecom:{ORDER_ID}" and refund.total_minor >= 0 for refund in refunds)
        assert all(line.amount_minor >= 0 for event in events for line in event.lines)
        assert state.refunded_minor <= state.sold_minor
    assert len({event.purchase_id for event in emitted}) == len(emitted)
