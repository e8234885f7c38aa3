"""Purchase drafts become canonical purchases: store time zones, catalog look-ups and the order state machine."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats import purchases_csv
from services.ingest.domain.model import LineDraft, OrderStatus, OrderVersion, ReceiptDraft
from services.ingest.domain.purchases import (
    OrderState,
    apply_order_version,
    local_to_utc,
    purchase_event_id,
    receipt_purchase,
)
from shared.contracts import MemberPurchaseV1, PurchaseChannel, PurchaseKind
from tests.unit.ingest.purchase_support import CATALOG, MEMBER, NOW, STORES, order_version, parsed_receipt, utc
from tests.unit.ingest.support import CTX, fixture

V1, V2, V3 = "jpy_v1_paid.json", "jpy_v2_partially_refunded.json", "jpy_v3_refunded.json"


def _purchase(draft: ReceiptDraft, *, store: bool = True, source_event_id: str = "") -> MemberPurchaseV1:
    return receipt_purchase(
        draft,
        member_id=MEMBER,
        source="pos_receipt",
        source_event_id=source_event_id or f"{draft.store_id}:{draft.receipt_id}",
        store=STORES.get(draft.store_id) if store else None,
        catalog=CATALOG,
        default_timezone="Asia/Shanghai",
        now=NOW,
    )


def _apply(state: OrderState | None, order: OrderVersion) -> tuple[OrderState, list[MemberPurchaseV1]]:
    return apply_order_version(state, order, member_id=MEMBER, catalog=CATALOG)


def _history(*orders: OrderVersion) -> tuple[OrderState | None, list[MemberPurchaseV1]]:
    state: OrderState | None = None
    emitted: list[MemberPurchaseV1] = []
    for order in orders:
        state, events = _apply(state, order)
        emitted += events
    return state, emitted


def _summary(events: list[MemberPurchaseV1]) -> list[tuple[PurchaseKind, str, int]]:
    return [(event.kind, event.purchase_id, event.total_minor) for event in events]


def _net(events: list[MemberPurchaseV1]) -> int:
    return sum(event.total_minor if event.kind is PurchaseKind.SALE else -event.total_minor for event in events)


# Store-local time to UTC


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        ("Europe/Berlin", "2026-03-29T01:59:00", utc(2026, 3, 29, 0, 59)),
        ("Europe/Berlin", "2026-03-29T03:00:00", utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", "2026-07-01T12:00:00", utc(2026, 7, 1, 10, 0)),
        ("America/New_York", "2026-01-15T09:00:00", utc(2026, 1, 15, 14, 0)),
        ("Asia/Shanghai", "2026-03-29T02:30:00", utc(2026, 3, 28, 18, 30)),
        ("Asia/Shanghai", "2026-10-25T02:30:00", utc(2026, 10, 24, 18, 30)),
    ],
)
def test_store_local_time_converts_with_the_offset_in_force_in_the_store_zone(
    zone: str, local: str, expected: datetime
) -> None:
    assert local_to_utc(datetime.fromisoformat(local), zone) == expected


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        ("Europe/Berlin", "2026-03-29T02:30:00", utc(2026, 3, 29, 1, 30)),
        ("America/New_York", "2026-03-08T02:30:00", utc(2026, 3, 8, 7, 30)),
    ],
)
def test_a_wall_time_in_the_spring_forward_gap_is_read_with_the_offset_before_the_gap(
    zone: str, local: str, expected: datetime
) -> None:
    assert local_to_utc(datetime.fromisoformat(local), zone) == expected


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        ("Europe/Berlin", "2026-10-25T02:30:00", utc(2026, 10, 25, 0, 30)),
        ("America/New_York", "2026-11-01T01:30:00", utc(2026, 11, 1, 5, 30)),
    ],
)
def test_an_ambiguous_wall_time_at_fall_back_is_its_first_occurrence(zone: str, local: str, expected: datetime) -> None:
    assert local_to_utc(datetime.fromisoformat(local), zone) == expected


def test_the_hour_after_fall_back_follows_the_repeated_hour_in_order() -> None:
    before, repeated, after = (
        local_to_utc(datetime.fromisoformat(f"2026-10-25T{time}"), "Europe/Berlin")
        for time in ("01:59", "02:59", "03:00")
    )

    assert before < repeated < after


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe"])
def test_an_unknown_zone_is_an_invalid_field(zone: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        local_to_utc(datetime(2026, 3, 29, 2, 30), zone)

    assert caught.value.code == "invalid_field"


def test_a_time_that_already_has_an_offset_is_refused() -> None:
    with pytest.raises(InvalidRecord) as caught:
        local_to_utc(utc(2026, 3, 29, 2, 30), "Europe/Berlin")

    assert caught.value.code == "invalid_timestamp"


# POS receipts


def test_a_shanghai_receipt_becomes_a_pos_sale_at_its_utc_time() -> None:
    parsed, draft = parsed_receipt("sale_cny.json")

    purchase = _purchase(draft, source_event_id=parsed.dedup_key)

    assert purchase.occurred_at == utc(2026, 11, 21, 11, 42, 5)
    assert (purchase.purchase_id, purchase.kind, purchase.channel) == (
        "pos:SH-JA-001:R-20261121-0042",
        PurchaseKind.SALE,
        PurchaseChannel.POS,
    )
    assert (purchase.store_id, purchase.currency, purchase.total_minor) == ("SH-JA-001", "CNY", 61140)
    assert (purchase.source, purchase.source_event_id) == ("pos_receipt", "SH-JA-001:R-20261121-0042")
    assert purchase.original_purchase_id is None
    assert not purchase.unknown_store


def test_lines_carry_their_catalog_category_and_unknown_skus_are_listed_once() -> None:
    _, draft = parsed_receipt("sale_cny.json")
    draft = replace(draft, lines=(*draft.lines, LineDraft("SEASONAL-GIFT-BAG", 1, 0)))

    purchase = _purchase(draft)

    assert [line.category for line in purchase.lines] == ["tea", "tableware", None, None]
    assert [line.amount_minor for line in purchase.lines] == [48240, 12900, 0, 0]
    assert purchase.unknown_skus == ("SEASONAL-GIFT-BAG",)


def test_a_return_is_a_refund_of_the_original_pos_purchase() -> None:
    _, draft = parsed_receipt("return_cny.json")

    purchase = _purchase(draft)

    assert purchase.kind is PurchaseKind.REFUND
    assert purchase.purchase_id == "pos:SH-JA-001:R-20261122-0007"
    assert purchase.original_purchase_id == "pos:SH-JA-001:R-20261121-0042"
    assert purchase.total_minor == 12900


def test_a_receipt_from_an_unregistered_store_is_read_in_the_default_zone_and_flagged() -> None:
    _, draft = parsed_receipt("sale_kzt.json")

    purchase = _purchase(draft, store=False)

    assert purchase.unknown_store
    assert purchase.occurred_at == utc(2026, 11, 20, 5, 5, 44)  # read as Asia/Shanghai, UTC+8


def test_a_berlin_receipt_printed_in_the_spring_forward_gap_is_dated_before_the_gap() -> None:
    _, draft = parsed_receipt("sale_berlin_spring_gap.json")

    purchase = _purchase(draft)

    assert purchase.occurred_at == utc(2026, 3, 29, 1, 30)
    assert (purchase.currency, purchase.lines[0].category) == ("EUR", "bakery")


def test_a_local_time_accepted_loosely_at_parsing_is_refused_once_the_zone_shows_it_is_in_the_future() -> None:
    _, draft = parsed_receipt("sale_cny.json")
    draft = replace(draft, issued_local=datetime(2026, 11, 23, 12, 0))  # 04:00 UTC, beyond now + 1 day

    with pytest.raises(InvalidRecord) as caught:
        _purchase(draft)

    assert caught.value.code == "timestamp_out_of_range"


def test_a_receipt_and_its_csv_export_are_one_event() -> None:
    _, live = parsed_receipt("sale_cny.json")
    exported = purchases_csv.parse(
        next(purchases_csv.split_receipts(fixture("purchases_csv", "export_2026_11.csv").decode())), CTX
    )
    assert isinstance(exported.body, ReceiptDraft)

    assert purchase_event_id(_purchase(live)) == purchase_event_id(_purchase(exported.body))


def test_a_sale_and_its_refund_have_different_event_ids() -> None:
    sale, refund = (_purchase(parsed_receipt(name)[1]) for name in ("sale_cny.json", "return_cny.json"))

    assert purchase_event_id(sale) != purchase_event_id(refund)


# E-commerce orders


def test_a_paid_order_is_one_ecom_sale_dated_at_payment() -> None:
    state, events = _apply(None, order_version(V1))

    assert _summary(events) == [(PurchaseKind.SALE, "ecom:WEB-JP-2026-000731", 20400)]
    sale = events[0]
    assert (sale.channel, sale.store_id, sale.currency) == (PurchaseChannel.ECOM, None, "JPY")
    assert (sale.source, sale.source_event_id) == ("ecom_order", "WEB-JP-2026-000731:v1")
    assert sale.occurred_at == utc(2026, 11, 18, 12, 3, 12)
    assert [line.category for line in sale.lines] == ["tea", "tableware"]
    assert state == OrderState("WEB-JP-2026-000731", 1, True, 0, (), sold_minor=20400)


def test_paid_then_partially_refunded_then_refunded_is_one_sale_and_two_refund_deltas() -> None:
    state, events = _history(order_version(V1), order_version(V2), order_version(V3))

    assert _summary(events) == [
        (PurchaseKind.SALE, "ecom:WEB-JP-2026-000731", 20400),
        (PurchaseKind.REFUND, "ecom:WEB-JP-2026-000731:refund:v2", 2800),
        (PurchaseKind.REFUND, "ecom:WEB-JP-2026-000731:refund:v3", 17600),
    ]
    assert [(line.sku, line.qty) for line in events[2].lines] == [("JP-MATCHA-30", 2), ("JP-CHAWAN-01", 1)]
    assert all(event.original_purchase_id == "ecom:WEB-JP-2026-000731" for event in events[1:])
    assert _net(events) == 0
    assert state is not None
    assert (state.version, state.refunded_minor) == (3, 20400)
    assert state.refunded_qty == (("JP-CHAWAN-01", 1), ("JP-MATCHA-30", 3))


def test_a_redelivered_or_older_version_is_stale_and_changes_nothing() -> None:
    state, _ = _history(order_version(V1), order_version(V2))
    assert state is not None

    for stale in (V1, V2):
        assert _apply(state, order_version(stale)) == (state, [])


def test_versions_arriving_out_of_order_add_up_to_the_same_money() -> None:
    _, in_order = _history(order_version(V1), order_version(V2), order_version(V3))
    _, shuffled = _history(order_version(V3), order_version(V1), order_version(V2))

    assert _summary(shuffled) == [
        (PurchaseKind.SALE, "ecom:WEB-JP-2026-000731", 20400),
        (PurchaseKind.REFUND, "ecom:WEB-JP-2026-000731:refund:v3", 20400),
    ]
    assert _net(shuffled) == _net(in_order) == 0


def test_a_refund_seen_before_its_payment_implies_the_sale_first() -> None:
    _, events = _apply(None, order_version(V2))

    assert [event.kind for event in events] == [PurchaseKind.SALE, PurchaseKind.REFUND]


def test_a_cancelled_order_that_was_never_paid_emits_nothing() -> None:
    state, events = _apply(None, order_version("cny_cancelled_unpaid.json"))

    assert events == []
    assert (state.version, state.sold) == (2, False)


def test_cancelling_a_paid_order_refunds_what_was_not_refunded_yet() -> None:
    state, _ = _history(order_version(V1), order_version(V2))
    cancelled = replace(order_version(V1), version=3, status=OrderStatus.CANCELLED)

    state, events = _apply(state, cancelled)

    assert _summary(events) == [(PurchaseKind.REFUND, "ecom:WEB-JP-2026-000731:refund:v3", 17600)]
    assert [(line.sku, line.qty, line.amount_minor) for line in events[0].lines] == [
        ("JP-MATCHA-30", 2, 5600),
        ("JP-CHAWAN-01", 1, 12000),
    ]
    assert state.refunded_minor == state.sold_minor == 20400


def test_a_cumulative_refund_that_goes_down_is_stale_news_but_the_version_advances() -> None:
    state, _ = _history(order_version(V1), order_version(V3))
    lower = replace(order_version(V2), version=4)

    new_state, events = _apply(state, lower)

    assert events == []
    assert state is not None
    assert new_state == replace(state, version=4)


def test_a_version_with_nothing_new_refunded_emits_nothing() -> None:
    state, _ = _history(order_version(V1), order_version(V2))

    _, events = _apply(state, replace(order_version(V2), version=5))

    assert events == []


def test_a_refund_below_its_goods_price_is_discounted_from_the_last_line_backwards() -> None:
    order = replace(
        order_version(V3),
        refunded_items=(LineDraft("JP-MATCHA-30", 1, 2800), LineDraft("JP-CHAWAN-01", 1, 12000)),
        refunded_minor=2000,
    )

    _, events = _history(order_version(V1), order)

    refund = events[1]
    assert [(line.qty, line.discount_minor, line.amount_minor) for line in refund.lines] == [
        (1, 800, 2000),
        (1, 12000, 0),
    ]
    assert refund.total_minor == sum(line.amount_minor for line in refund.lines) == 2000


def test_money_back_without_goods_back_is_set_against_the_whole_order() -> None:
    goodwill = replace(order_version(V2), refunded_items=(), refunded_minor=1000)

    _, events = _history(order_version(V1), goodwill)

    refund = events[1]
    assert [line.sku for line in refund.lines] == ["JP-MATCHA-30", "JP-CHAWAN-01"]
    assert refund.total_minor == sum(line.amount_minor for line in refund.lines) == 1000


def test_a_refund_above_its_goods_price_keeps_full_price_lines_and_the_amount_as_total() -> None:
    with_shipping = replace(order_version(V2), refunded_minor=3500)

    _, events = _history(order_version(V1), with_shipping)

    refund = events[1]
    assert [(line.qty, line.amount_minor) for line in refund.lines] == [(1, 2800)]
    assert refund.total_minor == 3500


def test_refunds_beyond_what_was_sold_are_a_total_mismatch() -> None:
    smaller = replace(order_version(V1), items=(LineDraft("JP-MATCHA-30", 1, 2800),))
    state, _ = _apply(None, smaller)

    with pytest.raises(InvalidRecord) as caught:
        _apply(state, order_version(V3))

    assert caught.value.code == "total_mismatch"


def test_a_paid_version_after_a_sale_emits_no_second_sale() -> None:
    state, _ = _apply(None, order_version(V1))

    assert _apply(state, replace(order_version(V1), version=2))[1] == []


def test_the_order_state_survives_a_json_round_trip() -> None:
    state, _ = _history(order_version(V1), order_version(V2))
    assert state is not None

    assert OrderState.from_json(json.loads(json.dumps(state.to_json()))) == state
