"""``purchases_csv``: bulk POS exports, cut into one record per receipt and checked like live receipts."""

from __future__ import annotations

import csv
import io

import pytest

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats import pos_receipt, purchases_csv
from services.ingest.domain.model import LineDraft, ReceiptDraft
from shared.contracts import PurchaseKind
from tests.unit.ingest.support import CTX, fixture, rejection

EXPORT = fixture("purchases_csv", "export_2026_11.csv").decode()
HEADER = ",".join(purchases_csv.COLUMNS)
ROW = "R-1,SH-JA-001,6222,,2026-11-21T19:42:05,CNY,sale,,TEA-LJ-250,2,26800,5360"


def _body(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode()


def _draft(*rows: str, header: str = HEADER) -> ReceiptDraft:
    body = purchases_csv.parse(_body(*rows, header=header), CTX).body
    assert isinstance(body, ReceiptDraft)
    return body


def _code(*rows: str, header: str = HEADER) -> str:
    return rejection(purchases_csv.parse, _body(*rows, header=header))


def _cells(rows_text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(rows_text.decode())))


def test_an_export_splits_into_one_record_per_receipt_in_order_of_first_appearance() -> None:
    bodies = list(purchases_csv.split_receipts(EXPORT))

    assert [purchases_csv.parse(body, CTX).dedup_key for body in bodies] == [
        "SH-JA-001:R-20261121-0042",
        "SH-JA-001:R-20261121-0043",
        "ALA-DP-01:000918273",
        "SH-JA-001:R-20261122-0007",
    ]


def test_rows_of_a_receipt_are_gathered_even_when_not_contiguous_and_keep_their_order() -> None:
    first = next(purchases_csv.split_receipts(EXPORT))

    assert [row[8] for row in _cells(first)[1:]] == ["TEA-LJ-250", "CUP-CER-02", "SEASONAL-GIFT-BAG"]


def test_every_record_starts_with_the_export_header_without_the_byte_order_mark() -> None:
    header = EXPORT.removeprefix("\ufeff").splitlines()[0].split(",")

    assert all(_cells(body)[0] == header for body in purchases_csv.split_receipts(EXPORT))


def test_splitting_loses_and_invents_no_row() -> None:
    rows = sorted(row for body in purchases_csv.split_receipts(EXPORT) for row in map(tuple, _cells(body)[1:]))

    assert rows == sorted(tuple(row) for row in _cells(EXPORT.removeprefix("\ufeff").encode())[1:] if row)


def test_a_csv_receipt_is_the_same_purchase_as_its_live_pos_receipt() -> None:
    from_csv = purchases_csv.parse(next(purchases_csv.split_receipts(EXPORT)), CTX)
    live = pos_receipt.parse(fixture("pos_receipt", "sale_cny.json"), CTX)

    assert from_csv.source == "purchases_csv"
    assert (from_csv.dedup_source, from_csv.dedup_key) == (live.dedup_source, live.dedup_key)
    assert from_csv.identifiers == live.identifiers
    assert from_csv.body == live.body


def test_the_total_of_a_csv_receipt_is_the_sum_of_its_lines() -> None:
    draft = _draft(ROW, "R-1,SH-JA-001,6222,,2026-11-21T19:42:05,CNY,sale,,CUP-CER-02,1,12900,")

    assert draft.lines == (LineDraft("TEA-LJ-250", 2, 26800, 5360), LineDraft("CUP-CER-02", 1, 12900, 0))
    assert draft.total_minor == 61140


def test_a_return_row_becomes_a_refund_naming_its_original_receipt() -> None:
    draft = _draft("R-2,SH-JA-001,6222,,2026-11-22T10:15:00,CNY,return,R-1,CUP-CER-02,1,12900,0")

    assert draft.kind is PurchaseKind.REFUND
    assert draft.original_receipt_id == "R-1"


def test_the_column_order_is_free_and_extra_columns_are_ignored() -> None:
    header = (
        "Store_ID, receipt_id,cashier,issued_at,currency,type,original_receipt_id,"
        "card_no,phone,sku,qty,unit_price_minor,discount_minor"
    )
    row = "SH-JA-001,R-1,李娜,2026-11-21T19:42:05,CNY,sale,,6222,,TEA-LJ-250,2,26800,5360"

    assert _draft(row, header=header).lines == (LineDraft("TEA-LJ-250", 2, 26800, 5360),)


def test_blank_lines_and_padded_cells_are_tolerated() -> None:
    padded = "R-1 , SH-JA-001,6222,,2026-11-21T19:42:05,CNY,sale,,TEA-LJ-250, 2 ,26800,5360"

    assert _draft("", padded, "  ").receipt_id == "R-1"


def test_rows_that_disagree_on_the_receipt_are_invalid_csv() -> None:
    other_time = ROW.replace("19:42:05", "19:43:00")

    assert _code(ROW, other_time) == "invalid_csv"


@pytest.mark.parametrize(
    "header",
    [HEADER.replace(",discount_minor", ""), HEADER + ",sku", "receipt,store,card,phone,time,cur,type,orig,sku,q,p,d"],
)
def test_a_header_missing_or_repeating_a_documented_column_is_invalid_csv(header: str) -> None:
    assert _code(ROW, header=header) == "invalid_csv"


@pytest.mark.parametrize("row", [ROW + ",extra", ROW.rsplit(",", 1)[0], 'R-1,"SH-JA-001'])
def test_a_row_with_the_wrong_number_of_cells_or_broken_quoting_is_invalid_csv(row: str) -> None:
    assert _code(row) == "invalid_csv"


def test_a_header_without_rows_is_invalid_csv() -> None:
    assert _code() == "invalid_csv"


@pytest.mark.parametrize(
    ("body", "code"), [(b"", "empty_value"), (b"\n\n", "invalid_csv"), (b"\xc3\x28", "invalid_utf8")]
)
def test_an_empty_or_undecodable_body_is_rejected(body: bytes, code: str) -> None:
    assert rejection(purchases_csv.parse, body) == code


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        ("1.5", "26800", "invalid_quantity"),
        ("-2", "26800", "invalid_quantity"),
        ("two", "26800", "invalid_quantity"),
        ("9" * 30, "26800", "invalid_quantity"),
        ("", "26800", "missing_field"),
        ("2", "268.00", "invalid_amount"),
        ("2", "", "missing_field"),
    ],
)
def test_numbers_are_integer_cells_checked_by_the_receipt_rules(qty: str, price: str, code: str) -> None:
    assert _code(f"R-1,SH-JA-001,6222,,2026-11-21T19:42:05,CNY,sale,,TEA-LJ-250,{qty},{price},") == code


def test_a_row_without_card_or_phone_is_empty_identity() -> None:
    assert _code(ROW.replace(",6222,", ",,")) == "empty_identity"


def test_a_return_without_its_original_receipt_is_a_missing_field() -> None:
    assert _code(ROW.replace(",sale,", ",return,")) == "missing_field"


def test_a_row_that_names_no_receipt_comes_out_alone_so_the_rest_still_loads() -> None:
    export = "\n".join([HEADER, ROW, "garbage", ROW.replace(",2,26800,5360", ",1,12900,0")])

    bodies = list(purchases_csv.split_receipts(export))

    assert len(bodies) == 2
    assert len(_cells(bodies[0])) == 3
    assert rejection(purchases_csv.parse, bodies[1]) == "invalid_csv"


def test_an_export_whose_header_names_no_receipt_cannot_be_split() -> None:
    with pytest.raises(InvalidRecord) as caught:
        list(purchases_csv.split_receipts("a,b\n1,2\n"))

    assert caught.value.code == "invalid_csv"


def test_receipts_with_the_same_id_in_two_stores_are_two_records() -> None:
    export = "\n".join([HEADER, ROW, ROW.replace("SH-JA-001", "ALA-DP-01")])

    assert len(list(purchases_csv.split_receipts(export))) == 2
