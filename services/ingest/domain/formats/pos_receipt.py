"""``pos_receipt``: receipts from the POS tills (JSON), and the one receipt validator the CSV export shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats._common import identifiers_of, json_child, json_items, kind_of, required
from services.ingest.domain.model import IdKind, LineDraft, Parsed, ReceiptDraft
from services.ingest.domain.money import amount_minor, currency, quantity
from services.ingest.domain.payloads import (
    EARLIEST_EVENT_TIME,
    MAX_CLOCK_SKEW,
    ParseContext,
    json_object,
    optional_str,
    required_str,
)
from shared.contracts import PurchaseKind

SOURCE = "pos_receipt"
# The live feed and the CSV export carry the same receipts: one dedup namespace, so a backfill doubles nothing.
DEDUP_SOURCE = "pos"
MAX_LINES = 500
MAX_SKU_CHARS = 64  # the canonical PurchaseLine's limit
_KINDS = {"sale": PurchaseKind.SALE, "return": PurchaseKind.REFUND}
# A wall time is UTC-12:00 .. UTC+14:00 away from UTC; the exact check follows once the store's zone is known.
_ZONE_SLACK = timedelta(hours=14)


def parse(body: bytes, ctx: ParseContext) -> Parsed:
    return receipt_record(json_object(body), ctx, source=SOURCE)


def receipt_record(payload: dict[str, Any], ctx: ParseContext, *, source: str, stated_total: bool = True) -> Parsed:
    """Validate one receipt in the ``pos_receipt`` shape; every receipt-carrying format ends here.

    ``stated_total=False`` is for sources without a total (the CSV export): the sum of the lines is the total.
    """
    # Stripped, so the live feed and a padded export cell build the same dedup key.
    receipt_id = required_str(payload, "receipt_id").strip()
    store_id = required_str(payload, "store_id").strip()
    member = json_child(payload, "member", absent="empty_identity")
    # Card first: it is what the till scanned; a phone is typed in and more often mistyped.
    ids = identifiers_of([(IdKind.CARD_NO, member.get("card_no")), (IdKind.PHONE, member.get("phone"))], ctx)
    issued_local = store_local_time(payload.get("issued_at"), "issued_at", ctx.now)
    kind = kind_of(payload.get("type"), "type", _KINDS)
    original_receipt_id = _original_receipt(payload, kind, receipt_id)
    code = currency(payload.get("currency"))
    lines = tuple(
        _line(item, f"lines[{i}]") for i, item in enumerate(json_items(payload, "lines", max_items=MAX_LINES))
    )
    total = amount_minor(sum(line.amount_minor for line in lines), "the total of the lines")
    if stated_total:
        stated = amount_minor(required(payload, "total_minor"), "total_minor")
        if stated != total:
            raise InvalidRecord("total_mismatch", f"total_minor {stated} differs from the sum of the lines, {total}")
    draft = ReceiptDraft(
        receipt_id=receipt_id,
        store_id=store_id,
        issued_local=issued_local,
        currency=code,
        kind=kind,
        lines=lines,
        total_minor=total,
        original_receipt_id=original_receipt_id,
    )
    return Parsed(
        source=source,
        dedup_source=DEDUP_SOURCE,
        dedup_key=receipt_key(store_id, receipt_id),
        identifiers=ids,
        body=draft,
    )


def receipt_key(store_id: str, receipt_id: str) -> str:
    """``store:receipt``, with ``\\`` and ``:`` escaped in the store id so no two receipts can share a key.

    Receipt numbers are unique per store only. Without the escape, store ``a:b`` with receipt ``c``
    and store ``a`` with receipt ``b:c`` would be one receipt to the dedup inbox, and one of them
    would be dropped. Ordinary ids (no ``:`` or ``\\``) keep their plain form.
    """
    escaped = store_id.replace("\\", "\\\\").replace(":", "\\:")
    return f"{escaped}:{receipt_id}"


def store_local_time(value: object, field: str, now: datetime) -> datetime:
    """A store-local wall time without an offset (naive), roughly range-checked while the zone is still unknown."""
    if not isinstance(value, str) or not value:
        raise InvalidRecord("missing_field", f"{field} is required (store-local ISO 8601 time, no offset)")
    try:
        date.fromisoformat(value)
    except ValueError:
        pass
    else:
        raise InvalidRecord("invalid_timestamp", f"{field} {value[:64]!r} has no time of day")
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRecord("invalid_timestamp", f"{field} {value[:64]!r} is not an ISO 8601 local time") from None
    if local.tzinfo is not None:
        # The format is store-local by contract; an offset means a misconfigured till, whose zone we cannot trust.
        raise InvalidRecord("invalid_timestamp", f"{field} {value[:64]!r} has an offset; store-local time has none")
    earliest = EARLIEST_EVENT_TIME.replace(tzinfo=None) - _ZONE_SLACK
    latest = (now.astimezone(UTC) + MAX_CLOCK_SKEW + _ZONE_SLACK).replace(tzinfo=None)
    if not earliest <= local <= latest:
        raise InvalidRecord("timestamp_out_of_range", f"{field} {value[:64]!r} is before 2000 or in the future")
    return local


def _original_receipt(payload: dict[str, Any], kind: PurchaseKind, receipt_id: str) -> str | None:
    if kind is PurchaseKind.SALE:
        return None  # tills fill it on exchanges too; a sale refers to nothing
    original = optional_str(payload, "original_receipt_id")
    if original is None:
        raise InvalidRecord("missing_field", "original_receipt_id is required for a return")
    if original == receipt_id:
        raise InvalidRecord("invalid_field", "a return cannot refer to itself as its original receipt")
    return original


def _line(item: dict[str, Any], where: str) -> LineDraft:
    sku = required_str(item, "sku", max_length=MAX_SKU_CHARS)
    qty = quantity(required(item, "qty", label=f"{where}.qty"), f"{where}.qty")
    price_field = f"{where}.unit_price_minor"
    unit_price = amount_minor(required(item, "unit_price_minor", label=price_field), price_field)
    discount_value = item.get("discount_minor")
    discount = 0 if discount_value is None else amount_minor(discount_value, f"{where}.discount_minor")
    if discount > qty * unit_price:
        raise InvalidRecord(
            "invalid_amount", f"{where}.discount_minor {discount} exceeds the line ({qty * unit_price})"
        )
    return LineDraft(sku=sku, qty=qty, unit_price_minor=unit_price, discount_minor=discount)
