"""``pos_receipt``: POS tills send receipts as JSON, in store-local time and exact minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.ingest.domain.formats import pos_receipt
from services.ingest.domain.identity import identifier
from services.ingest.domain.model import IdKind, LineDraft, ReceiptDraft
from shared.contracts import PurchaseChannel, PurchaseKind
from tests.unit.ingest.support import CTX, SALT, fixture, json_fixture, nested_json, rejection

SALE = "sale_cny.json"


def _draft(name: str = SALE, **changes: Any) -> ReceiptDraft:
    body = pos_receipt.parse(json_fixture("pos_receipt", name, **changes), CTX).body
    assert isinstance(body, ReceiptDraft)
    return body


def _code(name: str = SALE, **changes: Any) -> str:
    return rejection(pos_receipt.parse, json_fixture("pos_receipt", name, **changes))


def _line(**changes: Any) -> list[dict[str, Any]]:
    return [{"sku": "TEA-LJ-250", "qty": 1, "unit_price_minor": 26800} | changes]


def test_a_sale_receipt_becomes_a_draft_with_exact_minor_unit_lines() -> None:
    draft = _draft()

    assert (draft.receipt_id, draft.store_id, draft.currency) == ("R-20261121-0042", "SH-JA-001", "CNY")
    assert draft.kind is PurchaseKind.SALE
    assert draft.channel is PurchaseChannel.POS
    assert draft.lines == (
        LineDraft("TEA-LJ-250", 2, 26800, 5360),
        LineDraft("CUP-CER-02", 1, 12900, 0),
        LineDraft("SEASONAL-GIFT-BAG", 1, 0, 0),
    )
    assert draft.total_minor == 61140
    assert draft.original_receipt_id is None


def test_a_tenge_receipt_keeps_tiyn_as_minor_units() -> None:
    draft = _draft("sale_kzt.json")

    assert draft.currency == "KZT"
    assert [line.amount_minor for line in draft.lines] == [405000, 267000]
    assert draft.total_minor == 672000


def test_the_dedup_key_is_store_and_receipt_in_the_namespace_shared_with_the_csv_export() -> None:
    parsed = pos_receipt.parse(fixture("pos_receipt", SALE), CTX)

    assert parsed.source == "pos_receipt"
    assert parsed.dedup_source == "pos"
    assert parsed.dedup_key == "SH-JA-001:R-20261121-0042"


def test_padded_or_numeric_ids_build_the_same_dedup_key_as_clean_strings() -> None:
    parsed = pos_receipt.parse(json_fixture("pos_receipt", SALE, receipt_id=918273, store_id=" SH-JA-001 "), CTX)

    assert parsed.dedup_key == "SH-JA-001:918273"


def test_the_card_names_the_member_before_the_phone_and_the_phone_is_hashed_as_e164() -> None:
    parsed = pos_receipt.parse(fixture("pos_receipt", SALE), CTX)

    assert parsed.identifiers == (
        identifier(IdKind.CARD_NO, "6222 0210 0001 8888", SALT),
        identifier(IdKind.PHONE, "+8613800138000", SALT),
    )


def test_a_blank_card_number_is_skipped_and_the_phone_names_the_member() -> None:
    parsed = pos_receipt.parse(fixture("pos_receipt", "sale_kzt.json"), CTX)

    assert parsed.identifiers == (identifier(IdKind.PHONE, "+77012345678", SALT),)


@pytest.mark.parametrize("member", [{}, {"card_no": "", "phone": "  "}, {"card_no": None}, ...])
def test_a_receipt_naming_no_member_is_rejected_as_empty_identity(member: object) -> None:
    assert _code(member=member) == "empty_identity"


def test_an_impossible_phone_rejects_the_receipt_rather_than_being_dropped() -> None:
    assert _code(member={"card_no": "6222", "phone": "12"}) == "invalid_phone"


def test_a_return_is_a_refund_that_names_the_receipt_it_returns() -> None:
    draft = _draft("return_cny.json")

    assert draft.kind is PurchaseKind.REFUND
    assert draft.original_receipt_id == "R-20261121-0042"
    assert draft.lines == (LineDraft("CUP-CER-02", 1, 12900),)
    assert draft.total_minor == 12900


@pytest.mark.parametrize("original", [..., None, ""])
def test_a_return_without_its_original_receipt_is_rejected(original: object) -> None:
    assert _code("return_cny.json", original_receipt_id=original) == "missing_field"


def test_a_return_cannot_name_itself_as_its_original() -> None:
    assert _code("return_cny.json", original_receipt_id="R-20261122-0007") == "invalid_field"


def test_a_sale_ignores_an_original_receipt_id_as_tills_fill_it_on_exchanges() -> None:
    assert _draft(original_receipt_id="R-0001").original_receipt_id is None


def test_issued_at_is_kept_as_naive_store_local_wall_time() -> None:
    assert _draft(issued_at="2026-03-29T02:30:00").issued_local == datetime(2026, 3, 29, 2, 30)


@pytest.mark.parametrize("issued_at", ["2026-11-21T19:42:05+08:00", "2026-11-21T11:42:05Z"])
def test_issued_at_with_an_offset_is_rejected_because_the_format_is_store_local(issued_at: str) -> None:
    assert _code(issued_at=issued_at) == "invalid_timestamp"


@pytest.mark.parametrize("issued_at", ["2026-11-21", "21/11/2026 19:42", "yesterday", "2026-11-21T25:00"])
def test_issued_at_that_is_not_an_iso_local_date_time_is_rejected(issued_at: str) -> None:
    assert _code(issued_at=issued_at) == "invalid_timestamp"


@pytest.mark.parametrize("issued_at", [..., None, "", 1763725325])
def test_issued_at_missing_or_not_text_is_a_missing_field(issued_at: object) -> None:
    assert _code(issued_at=issued_at) == "missing_field"


@pytest.mark.parametrize("issued_at", ["1999-12-31T09:59:59", "2026-11-23T14:00:01", "9999-12-31T23:59:59"])
def test_issued_at_beyond_2000_to_tomorrow_in_any_zone_is_out_of_range(issued_at: str) -> None:
    assert _code(issued_at=issued_at) == "timestamp_out_of_range"


@pytest.mark.parametrize("issued_at", ["1999-12-31T12:00:00", "2026-11-23T12:00:00"])
def test_issued_at_near_the_bounds_passes_parsing_and_is_checked_exactly_once_the_zone_is_known(issued_at: str) -> None:
    assert _draft(issued_at=issued_at).issued_local == datetime.fromisoformat(issued_at)


def test_a_total_that_differs_from_the_sum_of_the_lines_is_a_total_mismatch() -> None:
    assert _code(total_minor=61141) == "total_mismatch"


@pytest.mark.parametrize("total", [..., None])
def test_a_receipt_without_a_total_is_rejected(total: object) -> None:
    assert _code(total_minor=total) == "missing_field"


def test_a_discount_above_the_line_price_is_an_invalid_amount() -> None:
    assert _code(lines=_line(discount_minor=26801), total_minor=0) == "invalid_amount"


@pytest.mark.parametrize("qty", [0, -1, 1.5, "2", True, 10_001])
def test_quantities_are_positive_whole_units_even_on_returns(qty: object) -> None:
    assert _code("return_cny.json", lines=_line(qty=qty), total_minor=26800) == "invalid_quantity"


@pytest.mark.parametrize("changes", [{"unit_price_minor": -1}, {"unit_price_minor": "268.00"}, {"discount_minor": -5}])
def test_prices_and_discounts_are_non_negative_integer_minor_units(changes: dict[str, Any]) -> None:
    assert _code(lines=_line(**changes), total_minor=26800) == "invalid_amount"


@pytest.mark.parametrize("field", ["sku", "qty", "unit_price_minor"])
def test_a_line_missing_a_required_field_is_rejected(field: str) -> None:
    line = _line()[0]
    del line[field]
    assert _code(lines=[line], total_minor=26800) == "missing_field"


def test_a_sku_longer_than_the_canonical_limit_is_rejected() -> None:
    assert _code(lines=_line(sku="X" * 65), total_minor=26800) == "invalid_field"


@pytest.mark.parametrize(("lines", "code"), [(..., "missing_field"), ([], "missing_field"), ({}, "invalid_field")])
def test_a_receipt_needs_a_non_empty_array_of_lines(lines: object, code: str) -> None:
    assert _code(lines=lines, total_minor=0) == code


def test_a_receipt_may_have_500_lines_but_not_more() -> None:
    assert len(_draft(lines=_line() * 500, total_minor=500 * 26800).lines) == 500
    assert _code(lines=_line() * 501, total_minor=501 * 26800) == "invalid_field"


def test_a_line_that_is_not_an_object_is_rejected() -> None:
    assert _code(lines=["TEA-LJ-250"], total_minor=0) == "invalid_field"


@pytest.mark.parametrize(("kind", "code"), [("exchange", "unknown_kind"), (..., "missing_field"), (1, "invalid_field")])
def test_the_type_is_sale_or_return(kind: object, code: str) -> None:
    assert _code(type=kind) == code


def test_a_lower_case_currency_is_read_as_its_iso_code() -> None:
    assert _draft(currency="cny").currency == "CNY"


@pytest.mark.parametrize(
    ("currency", "code"), [("RMB", "unknown_currency"), ("DEM", "unknown_currency"), (..., "missing_field")]
)
def test_the_currency_is_an_iso_4217_code_in_use(currency: object, code: str) -> None:
    assert _code(currency=currency) == code


@pytest.mark.parametrize("field", ["receipt_id", "store_id"])
def test_a_receipt_needs_its_receipt_and_store_ids(field: str) -> None:
    changes: dict[str, Any] = {field: ...}
    assert _code(SALE, **changes) == "missing_field"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_value"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b"[1, 2]", "invalid_json"),
        (b"{'receipt_id': 1}", "invalid_json"),
        (nested_json(40), "too_deeply_nested"),
        (b'{"total_minor": ' + b"9" * 5000 + b"}", "invalid_json"),
    ],
)
def test_hostile_bodies_are_rejected_with_their_own_codes(body: bytes, code: str) -> None:
    assert rejection(pos_receipt.parse, body) == code


def test_store_and_receipt_ids_containing_colons_never_share_a_dedup_key() -> None:
    from services.ingest.domain.formats.pos_receipt import receipt_key

    assert receipt_key("a:b", "c") != receipt_key("a", "b:c")
    assert receipt_key("a\\", ":c") != receipt_key("a\\:", "c")
    assert receipt_key("store-sh-001", "R-1") == "store-sh-001:R-1"
