"""``purchases_csv``: bulk POS exports, one receipt line per row; a record is the header plus ONE receipt's rows.

Each record is rebuilt into the ``pos_receipt`` shape and checked by ``pos_receipt.receipt_record``, so
the export and the live feed obey one set of rules and share one dedup key: a backfill that overlaps
live data doubles nothing. ``split_receipts`` cuts a whole export into such records.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats.pos_receipt import receipt_record
from services.ingest.domain.model import Parsed
from services.ingest.domain.payloads import ParseContext, text_of

SOURCE = "purchases_csv"
RECEIPT_COLUMNS = ("receipt_id", "store_id", "card_no", "phone", "issued_at", "currency", "type", "original_receipt_id")
LINE_COLUMNS = ("sku", "qty", "unit_price_minor", "discount_minor")
COLUMNS = RECEIPT_COLUMNS + LINE_COLUMNS
# Digits only, and few enough that int() stays cheap; anything else goes to the validator as text and is refused there.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def parse(body: bytes, ctx: ParseContext) -> Parsed:
    header, rows = _read(text_of(body))
    columns = _columns(header)
    records = [_record(columns, len(header), row, number) for number, row in rows]
    if not records:
        raise InvalidRecord("invalid_csv", "the body has a header but no receipt rows")
    first = records[0]
    for (number, _), record in zip(rows[1:], records[1:], strict=True):
        differing = [column for column in RECEIPT_COLUMNS if record[column] != first[column]]
        if differing:
            raise InvalidRecord("invalid_csv", f"row {number} differs from the first row in {', '.join(differing)}")
    payload: dict[str, Any] = {
        "receipt_id": first["receipt_id"],
        "store_id": first["store_id"],
        "member": {"card_no": first["card_no"], "phone": first["phone"]},
        "issued_at": first["issued_at"],
        "currency": first["currency"],
        "type": first["type"],
        "original_receipt_id": first["original_receipt_id"],
        "lines": [_line(record) for record in records],
    }
    return receipt_record(payload, ctx, source=SOURCE, stated_total=False)


def split_receipts(rows_text: str) -> Iterator[bytes]:
    """One record body per receipt from a whole export: the header, then that receipt's rows.

    Receipts come out in the order they first appear, whether or not their rows are contiguous. A row
    that names no receipt (wrong number of cells, blank ids) becomes a body of its own, so it is
    rejected alone and the rest of the export still loads.
    """
    header, rows = _read(rows_text)
    names = [name.strip().lower() for name in header]
    if "receipt_id" not in names or "store_id" not in names:
        raise InvalidRecord("invalid_csv", "the header names no receipt_id and store_id columns")
    receipt_at, store_at = names.index("receipt_id"), names.index("store_id")
    receipts: dict[object, list[list[str]]] = {}
    for _, row in rows:
        key: object = object()  # unique: an unkeyed row stands alone
        if len(row) == len(header) and row[receipt_at].strip() and row[store_at].strip():
            key = (row[store_at].strip(), row[receipt_at].strip())
        receipts.setdefault(key, []).append(row)
    for receipt_rows in receipts.values():
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *receipt_rows])
        yield out.getvalue().encode()


def _read(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows, each with its 1-based line number in the CSV."""
    try:
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise InvalidRecord("invalid_csv", f"line {reader.line_num}: {exc}") from None
    if not rows:
        raise InvalidRecord("invalid_csv", "the body has no header row")
    return rows[0][1], rows[1:]


def _columns(header: list[str]) -> dict[str, int]:
    """Where each documented column is; the order is free, extra columns are ignored (exports grow)."""
    names = [name.strip().lower() for name in header]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InvalidRecord("invalid_csv", f"the header repeats {', '.join(duplicated)}")
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise InvalidRecord("invalid_csv", f"the header lacks {', '.join(missing)}")
    return {column: names.index(column) for column in COLUMNS}


def _record(columns: dict[str, int], width: int, row: list[str], number: int) -> dict[str, str | None]:
    if len(row) != width:
        raise InvalidRecord("invalid_csv", f"row {number} has {len(row)} cells; the header has {width}")
    # An empty cell is an absent value: the validator then says missing_field, or skips an optional column.
    return {column: row[at].strip() or None for column, at in columns.items()}


def _line(record: dict[str, str | None]) -> dict[str, Any]:
    return {"sku": record["sku"]} | {column: _number(record[column]) for column in LINE_COLUMNS[1:]}


def _number(cell: str | None) -> int | str | None:
    return int(cell) if cell is not None and _INTEGER.fullmatch(cell) else cell
