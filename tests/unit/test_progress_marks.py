"""Progress marks: one per partition, on the partition they speak for, readable and never mistaken for an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.contracts import MemberStateV1, wrap
from shared.contracts.state import EngagementTier, Lifecycle, ValueTier
from shared.kafka.progress import (
    is_progress_mark,
    mark_key,
    mark_until,
    partition_for_key,
    progress_marks,
    read_mark,
)

UNTIL = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("partitions", [1, 3, 12, 48])
def test_each_mark_key_lands_on_its_own_partition(partitions: int) -> None:
    for partition in range(partitions):
        assert partition_for_key(mark_key(partition, partitions), partitions) == partition


def test_a_mark_per_owned_partition_carries_its_time() -> None:
    marks = progress_marks("member.state.v1", 12, {7, 2}, UNTIL.astimezone(timezone(timedelta(hours=8))), "scoring")
    assert [partition_for_key(m.key or b"", 12) for m in marks] == [2, 7]
    assert all(is_progress_mark(m.headers) for m in marks)
    assert [mark_until(m.value) for m in marks] == [UNTIL, UNTIL]
    assert len({dict(m.headers)["ce_id"] for m in marks}) == 2


def test_a_state_event_is_not_a_mark() -> None:
    state = MemberStateV1(
        member_id="m-1",
        occurred_at=UNTIL,
        engagement_tier=EngagementTier.ACTIVE,
        value_tier=ValueTier.HIGH,
        lifecycle=Lifecycle.ACTIVE,
        state_version=1,
    )
    record = wrap(state, topic="member.state.v1", source="scoring")
    assert not is_progress_mark(record.headers)
    assert not is_progress_mark(None)


def test_a_replicas_mark_names_the_input_partitions_it_speaks_for_and_all_there_are() -> None:
    universe = {"raw.chat.v1": 2, "raw.purchase.v1": 1}
    marks = progress_marks(
        "member.chat.v1",
        12,
        range(12),
        UNTIL,
        "ingest",
        origins=["raw.purchase.v1/0", "raw.chat.v1/1"],
        universe=universe,
    )
    read = [read_mark(m.value) for m in marks]
    assert {mark.origins for mark in read if mark} == {("raw.chat.v1/1", "raw.purchase.v1/0")}
    assert {mark.expected for mark in read if mark} == {
        frozenset({"raw.chat.v1/0", "raw.chat.v1/1", "raw.purchase.v1/0"})
    }
    other = progress_marks("member.chat.v1", 12, [0], UNTIL, "ingest", origins=["raw.chat.v1/0"], universe=universe)
    assert dict(other[0].headers)["ce_id"] != dict(marks[0].headers)["ce_id"], "two replicas' marks are two events"


def test_a_single_producers_mark_speaks_for_everything_it_publishes() -> None:
    mark = read_mark(progress_marks("member.state.v1", 12, [3], UNTIL, "scoring")[0].value)
    assert mark is not None
    assert (mark.until, mark.origins, mark.expected) == (UNTIL, (), frozenset())


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"{}",
        b"[]",
        b'{"until": "yesterday"}',
        b'{"until": "2026-03-01T12:00"}',
        b'{"until": "2026-03-01T12:00Z", "origins": ["a/0"], "universe": {"a": "many"}}',
        b'{"until": "2026-03-01T12:00Z", "origins": ["a/0"], "universe": {"a": 100000000}}',
        b'{"until": "2026-03-01T12:00Z", "origins": ["a/0"], "universe": []}',
    ],
)
def test_an_unreadable_mark_marks_nothing(value: bytes | None) -> None:
    assert mark_until(value) is None
