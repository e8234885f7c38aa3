"""A backfill of several files goes out oldest event first, so the topics carry history as it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain.event_order import event_time, merged_by_event_time
from services.ingest.domain.model import ChatDraft, Identifier, IdKind, Ignored, Parsed, ReceiptDraft
from shared.contracts import ChatKind, PurchaseKind

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MEMBER = (Identifier(IdKind.CARD_NO, "d1"),)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def chat(when: datetime) -> Parsed:
    return Parsed("chat_json", "c1", MEMBER, ChatDraft("g1", ChatKind.MESSAGE, when))


def receipt(local: datetime, store_id: str = "s-berlin") -> Parsed:
    draft = ReceiptDraft("r1", store_id, local, "EUR", PurchaseKind.SALE, (), 0)
    return Parsed("pos_receipt", "r1", MEMBER, draft)


def test_a_chat_happened_when_it_says() -> None:
    assert event_time(chat(at(5)), lambda _: "UTC") == at(5)


def test_a_till_receipt_happened_at_its_local_time_in_the_stores_zone() -> None:
    local = datetime(2026, 3, 1, 12, 0)
    zones = {"s-berlin": "Europe/Berlin", "s-shanghai": "Asia/Shanghai"}
    assert event_time(receipt(local), zones.__getitem__) == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert event_time(receipt(local, "s-shanghai"), zones.__getitem__) == datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


def test_bad_and_ignored_records_and_unknown_zones_have_no_time() -> None:
    assert event_time(None, lambda _: "UTC") is None
    assert event_time(Ignored("chat_json", "menu_click"), lambda _: "UTC") is None
    assert event_time(receipt(datetime(2026, 3, 1, 12)), lambda _: "Mars/Olympus") is None


def test_files_are_merged_oldest_event_first() -> None:
    chats = [(at(1), "chat 1"), (at(4), "chat 4"), (at(9), "chat 9")]
    receipts = [(at(2), "receipt 2"), (at(3), "receipt 3"), (at(10), "receipt 10")]
    merged = list(merged_by_event_time([chats, receipts]))
    assert merged == ["chat 1", "receipt 2", "receipt 3", "chat 4", "chat 9", "receipt 10"]


def test_a_record_without_a_time_stays_right_after_the_one_before_it_in_its_file() -> None:
    chats: list[tuple[datetime | None, str]] = [(at(1), "chat 1"), (None, "broken line"), (at(6), "chat 6")]
    receipts: list[tuple[datetime | None, str]] = [(at(2), "receipt 2"), (at(5), "receipt 5")]
    merged = list(merged_by_event_time([chats, receipts]))
    assert merged == ["chat 1", "broken line", "receipt 2", "receipt 5", "chat 6"]


def test_equal_times_go_to_the_earlier_file_so_the_order_never_varies() -> None:
    merged = list(merged_by_event_time([[(at(1), "first file")], [(at(1), "second file")]]))
    assert merged == ["first file", "second file"]


def test_one_file_goes_out_in_its_own_order_even_where_it_is_out_of_order() -> None:
    lines = [(at(3), "a"), (at(1), "b"), (None, "c"), (at(2), "d")]
    assert list(merged_by_event_time([lines])) == ["a", "b", "c", "d"]


hours = st.lists(st.one_of(st.none(), st.integers(0, 1000)), max_size=30)


@given(st.lists(hours, min_size=1, max_size=5))
def test_every_record_goes_out_once_and_each_files_order_is_kept(files: list[list[int | None]]) -> None:
    streams = [
        [(None if h is None else at(h), (index, position)) for position, h in enumerate(file)]
        for index, file in enumerate(files)
    ]
    merged = list(merged_by_event_time(streams))
    assert sorted(merged) == sorted(item for stream in streams for _, item in stream)
    for index in range(len(files)):
        assert [p for i, p in merged if i == index] == list(range(len(files[index])))


@given(st.lists(st.lists(st.integers(0, 1000)).map(sorted), min_size=1, max_size=5))
def test_files_each_in_time_order_merge_into_one_in_time_order(files: list[list[int]]) -> None:
    merged = list(merged_by_event_time([[(at(h), h) for h in file] for file in files]))
    assert merged == sorted(merged)
