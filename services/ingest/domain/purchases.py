"""From purchase drafts to canonical ``MemberPurchaseV1`` events.

POS receipts need the store's time zone and the catalog; web-shop orders also need the order's
history, kept as ``OrderState``, so that a refund after a payment is one refund and never a second sale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import LineDraft, OrderStatus, OrderVersion, ReceiptDraft
from services.ingest.domain.payloads import check_event_time
from shared.contracts import MemberPurchaseV1, PurchaseChannel, PurchaseKind, PurchaseLine, derived_event_id


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    timezone: str  # IANA name, e.g. "Asia/Shanghai"
    region: str
    city: str


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    brand: str
    price_tier: str


def purchase_event_id(purchase: MemberPurchaseV1) -> str:
    """The event id of a purchase, from its purchase id: a receipt and its CSV export are one event."""
    return derived_event_id("memberpulse/ingest", purchase.purchase_id)


def local_to_utc(local: datetime, zone: str) -> datetime:
    """The UTC instant of the naive wall-clock time ``local`` in the IANA zone ``zone``.

    Tills print whatever their clock shows, including wall times a clock change makes odd:

    - ambiguous (autumn fall-back, the hour happens twice): read as the FIRST occurrence (``fold=0``);
    - non-existent (spring-forward gap): read with the offset in force BEFORE the gap, which is what
      zoneinfo does for ``fold=0``; Berlin's 02:30 on the spring-forward night is 01:30 UTC.

    An unknown zone name is ``invalid_field``: the store registry is wrong, and the record waits in the DLQ.
    """
    if local.tzinfo is not None:
        raise InvalidRecord("invalid_timestamp", "a store-local wall time has no offset")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidRecord("invalid_field", f"time zone {zone[:64]!r} is not a known IANA zone") from None
    try:
        return local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    except OverflowError:
        raise InvalidRecord("timestamp_out_of_range", f"{local.isoformat()} in {zone} is out of range") from None


def receipt_purchase(
    draft: ReceiptDraft,
    *,
    member_id: str,
    source: str,
    source_event_id: str,
    store: Store | None,
    catalog: Mapping[str, Product],
    default_timezone: str,
    now: datetime,
) -> MemberPurchaseV1:
    """The purchase a POS receipt stands for; an unregistered store is read in ``default_timezone`` and flagged."""
    zone = store.timezone if store is not None else default_timezone
    # Parsing only bounded the wall time loosely (the zone was unknown); this is the exact check.
    occurred_at = check_event_time(local_to_utc(draft.issued_local, zone), now)
    refund = draft.kind is PurchaseKind.REFUND and draft.original_receipt_id is not None
    return MemberPurchaseV1(
        member_id=member_id,
        occurred_at=occurred_at,
        purchase_id=f"pos:{draft.store_id}:{draft.receipt_id}",
        kind=draft.kind,
        channel=draft.channel,
        store_id=draft.store_id,
        currency=draft.currency,
        lines=_lines(draft.lines, catalog),
        total_minor=draft.total_minor,
        original_purchase_id=f"pos:{draft.store_id}:{draft.original_receipt_id}" if refund else None,
        unknown_store=store is None,
        unknown_skus=_unknown_skus(draft.lines, catalog),
        source=source,
        source_event_id=source_event_id,
    )


@dataclass(frozen=True)
class OrderState:
    """What ingest remembers of a web-shop order between versions: stored as JSONB, locked per batch."""

    order_id: str
    version: int  # the highest version applied; older ones are stale
    sold: bool
    refunded_minor: int  # cumulative, as already emitted in refunds
    refunded_qty: tuple[tuple[str, int], ...]  # cumulative per SKU, sorted by SKU
    # The sale's total: refunds are held to what was sold, even if a later version edits the items.
    sold_minor: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "version": self.version,
            "sold": self.sold,
            "sold_minor": self.sold_minor,
            "refunded_minor": self.refunded_minor,
            "refunded_qty": [[sku, qty] for sku, qty in self.refunded_qty],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderState:
        return cls(
            order_id=str(data["order_id"]),
            version=int(data["version"]),
            sold=bool(data["sold"]),
            sold_minor=int(data["sold_minor"]),
            refunded_minor=int(data["refunded_minor"]),
            refunded_qty=tuple((str(sku), int(qty)) for sku, qty in data["refunded_qty"]),
        )


def apply_order_version(
    state: OrderState | None,
    order: OrderVersion,
    *,
    member_id: str,
    catalog: Mapping[str, Product],
    source: str = "ecom_order",
) -> tuple[OrderState, list[MemberPurchaseV1]]:
    """Apply one order version to the order's state; the purchases it adds, in order.

    - A version no newer than the state's is stale: nothing changes.
    - ``paid``: the sale, once.
    - ``refunded``/``partially_refunded``: the sale first if it was never emitted (a refund implies a
      payment), then ONE refund for the growth of the cumulative refund (amount and per-SKU units). A
      cumulative amount that went down is stale news: no refund, but the version still advances.
    - ``cancelled``: after a sale, a refund of everything not yet refunded; never sold, nothing.

    Raises ``total_mismatch`` when the cumulative refund would exceed what was sold.
    """
    if state is not None and order.version <= state.version:
        return state, []
    state = replace(state or OrderState(order.order_id, 0, False, 0, ()), version=order.version)
    if not state.sold and order.status is OrderStatus.CANCELLED:
        return state, []  # a cancelled unpaid order is not a sale
    events = _OrderEvents(order, member_id, catalog, source)
    emitted: list[MemberPurchaseV1] = []
    if not state.sold:
        sale = events.sale()
        emitted.append(sale)
        state = replace(state, sold=True, sold_minor=sale.total_minor)
    if order.status is OrderStatus.PAID:
        return state, emitted
    target_minor, target_qty = _refund_target(state, order)
    if target_minor < state.refunded_minor:
        return state, emitted
    if target_minor > state.sold_minor:
        raise InvalidRecord("total_mismatch", f"refunds of {target_minor} exceed the sale of {state.sold_minor}")
    done = dict(state.refunded_qty)
    qty_delta = {sku: qty - done.get(sku, 0) for sku, qty in target_qty if qty > done.get(sku, 0)}
    amount_delta = target_minor - state.refunded_minor
    if amount_delta or qty_delta:
        emitted.append(events.refund(qty_delta, amount_delta))
    refunded_qty = tuple(sorted((done | {sku: done.get(sku, 0) + qty for sku, qty in qty_delta.items()}).items()))
    return replace(state, refunded_minor=target_minor, refunded_qty=refunded_qty), emitted


def _refund_target(state: OrderState, order: OrderVersion) -> tuple[int, list[tuple[str, int]]]:
    """The cumulative refund this version asks for: amount, and units per SKU in the order's SKU order."""
    lines = order.items if order.status is OrderStatus.CANCELLED else order.refunded_items
    units: dict[str, int] = {}
    for line in lines:
        units[line.sku] = units.get(line.sku, 0) + line.qty
    amount = state.sold_minor if order.status is OrderStatus.CANCELLED else order.refunded_minor
    return amount, list(units.items())


@dataclass(frozen=True)
class _OrderEvents:
    order: OrderVersion
    member_id: str
    catalog: Mapping[str, Product]
    source: str

    def sale(self) -> MemberPurchaseV1:
        total = sum(line.amount_minor for line in self.order.items)
        return self._purchase(PurchaseKind.SALE, f"ecom:{self.order.order_id}", self.order.items, total)

    def refund(self, units: Mapping[str, int], amount: int) -> MemberPurchaseV1:
        prices: dict[str, int] = {}
        for line in (*self.order.refunded_items, *self.order.items):  # a SKU listed twice: its highest price
            prices[line.sku] = max(prices.get(line.sku, 0), line.unit_price_minor)
        goods = [LineDraft(sku, qty, prices[sku]) for sku, qty in units.items()]
        # Money back without goods back (a goodwill refund) is set against the whole order.
        lines = _settle(goods or self.order.items, amount)
        purchase_id = f"ecom:{self.order.order_id}:refund:v{self.order.version}"
        return self._purchase(PurchaseKind.REFUND, purchase_id, lines, amount, f"ecom:{self.order.order_id}")

    def _purchase(
        self, kind: PurchaseKind, purchase_id: str, lines: Sequence[LineDraft], total: int, original: str | None = None
    ) -> MemberPurchaseV1:
        return MemberPurchaseV1(
            member_id=self.member_id,
            occurred_at=self.order.occurred_at,
            purchase_id=purchase_id,
            kind=kind,
            channel=PurchaseChannel.ECOM,
            store_id=None,
            currency=self.order.currency,
            lines=_lines(lines, self.catalog),
            total_minor=total,
            original_purchase_id=original,
            unknown_skus=_unknown_skus(lines, self.catalog),
            source=self.source,
            source_event_id=f"{self.order.order_id}:v{self.order.version}",
        )


def _settle(lines: Sequence[LineDraft], amount: int) -> tuple[LineDraft, ...]:
    """Refund lines that add up to ``amount`` as far as discounts can make them.

    A refund below its goods' price (an order voucher kept, a restocking fee) becomes discounts, taken
    from the last line backwards without taking any line below zero. A refund above its goods' price
    (shipping refunded too) keeps the lines at full price: the event's total, the money, then exceeds them.
    """
    excess = sum(line.amount_minor for line in lines) - amount
    settled: list[LineDraft] = []
    for line in reversed(lines):
        cut = min(max(excess, 0), line.amount_minor)
        settled.append(replace(line, discount_minor=line.discount_minor + cut))
        excess -= cut
    return tuple(reversed(settled))


def _lines(lines: Iterable[LineDraft], catalog: Mapping[str, Product]) -> tuple[PurchaseLine, ...]:
    return tuple(
        PurchaseLine(
            sku=line.sku,
            category=catalog[line.sku].category if line.sku in catalog else None,
            qty=line.qty,
            unit_price_minor=line.unit_price_minor,
            discount_minor=line.discount_minor,
            amount_minor=line.amount_minor,
        )
        for line in lines
    )


def _unknown_skus(lines: Iterable[LineDraft], catalog: Mapping[str, Product]) -> tuple[str, ...]:
    return tuple(sorted({line.sku for line in lines if line.sku not in catalog}))
