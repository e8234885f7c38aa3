"""Frequency caps: at least two days between marketing messages, at most two a week, past or scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.campaigns.domain.caps import FrequencyCap, allows, next_allowed

DEFAULT = FrequencyCap()
MONDAY = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- allows --------------------------------------------------------------------------------------


def test_a_member_with_no_messages_may_be_sent_one() -> None:
    assert allows([], MONDAY, DEFAULT)


def test_a_second_message_within_two_days_is_refused() -> None:
    assert not allows([MONDAY], MONDAY + hours(47), DEFAULT)


def test_a_second_message_exactly_two_days_later_is_allowed() -> None:
    assert allows([MONDAY], MONDAY + hours(48), DEFAULT)


def test_a_third_message_in_seven_days_is_refused_even_when_well_spaced() -> None:
    sent = [MONDAY, MONDAY + days(3)]
    assert not allows(sent, MONDAY + days(6), DEFAULT)


def test_a_third_message_is_allowed_once_the_first_is_seven_days_old() -> None:
    sent = [MONDAY, MONDAY + days(3)]
    assert not allows(sent, MONDAY + days(7) - timedelta(seconds=1), DEFAULT)
    assert allows(sent, MONDAY + days(7), DEFAULT)


def test_a_message_scheduled_for_the_future_counts_against_the_gap() -> None:
    # A message deferred through quiet hours to tomorrow morning still reaches the member.
    scheduled = MONDAY + hours(23)
    assert not allows([scheduled], MONDAY, DEFAULT)


def test_a_new_message_must_keep_its_distance_before_a_scheduled_one_too() -> None:
    scheduled = MONDAY + days(3)
    assert allows([scheduled], scheduled - hours(48), DEFAULT)
    assert not allows([scheduled], scheduled - hours(47), DEFAULT)


def test_scheduled_messages_count_towards_the_weekly_limit() -> None:
    # Already one this morning and one scheduled in four days: a third in between is refused.
    sent = [MONDAY - days(2), MONDAY + days(2)]
    assert not allows(sent, MONDAY, DEFAULT)


def test_the_weekly_limit_applies_to_every_seven_day_span_not_calendar_weeks() -> None:
    # Thursday, Sunday and then Tuesday: no calendar week holds three, but Thursday–Tuesday is six days.
    thursday = MONDAY + days(3)
    sent = [thursday, thursday + days(3)]
    assert not allows(sent, thursday + days(5) + hours(12), DEFAULT)


def test_old_messages_beyond_the_window_do_not_count() -> None:
    sent = [MONDAY - days(30), MONDAY - days(20), MONDAY - days(10)]
    assert allows(sent, MONDAY, DEFAULT)


def test_an_older_crowded_week_does_not_block_new_messages_for_ever() -> None:
    # Three messages in one week under an older, looser cap; today's message is judged on its own weeks.
    sent = [MONDAY - days(30), MONDAY - days(29), MONDAY - days(28)]
    assert allows(sent, MONDAY, DEFAULT)


def test_a_cap_of_one_a_day_with_no_gap_rule() -> None:
    cap = FrequencyCap(min_gap_hours=0, max_in_window=1, window_days=1)
    assert not allows([MONDAY], MONDAY + hours(23), cap)
    assert allows([MONDAY], MONDAY + hours(24), cap)


@pytest.mark.parametrize(
    ("min_gap_hours", "max_in_window", "window_days"),
    [(-1.0, 2, 7.0), (48.0, 0, 7.0), (48.0, 2, 0.0)],
)
def test_a_cap_that_makes_no_sense_or_could_never_be_met_is_rejected(
    min_gap_hours: float, max_in_window: int, window_days: float
) -> None:
    with pytest.raises(ValueError, match="must"):
        FrequencyCap(min_gap_hours, max_in_window, window_days)


# -- next_allowed --------------------------------------------------------------------------------


def test_with_nothing_sent_the_next_allowed_time_is_now() -> None:
    assert next_allowed([], MONDAY, DEFAULT) == MONDAY


def test_an_allowed_time_is_its_own_next_allowed_time() -> None:
    assert next_allowed([MONDAY - days(3)], MONDAY, DEFAULT) == MONDAY


def test_after_a_message_the_next_may_go_two_days_later() -> None:
    assert next_allowed([MONDAY], MONDAY + hours(1), DEFAULT) == MONDAY + hours(48)


def test_two_messages_this_week_push_the_next_to_a_week_after_the_first() -> None:
    sent = [MONDAY, MONDAY + days(3)]
    assert next_allowed(sent, MONDAY + days(4), DEFAULT) == MONDAY + days(7)


def test_a_scheduled_message_pushes_the_next_past_its_own_gap() -> None:
    scheduled = MONDAY + hours(20)
    assert next_allowed([scheduled], MONDAY, DEFAULT) == scheduled + hours(48)


def test_a_slot_that_fits_before_a_scheduled_message_is_used() -> None:
    # Sent a week ago and scheduled in five days: today fits both the gap and the weekly limit.
    sent = [MONDAY - days(7), MONDAY + days(5)]
    assert next_allowed(sent, MONDAY, DEFAULT) == MONDAY


def test_a_gap_too_small_between_two_messages_is_skipped() -> None:
    # Three days between deliveries leaves no room for a message two days from each; the next goes after both,
    # and then only once the first has left the week.
    sent = [MONDAY, MONDAY + days(3)]
    assert next_allowed(sent, MONDAY + days(1), DEFAULT) == MONDAY + days(7)


def test_the_next_allowed_time_is_allowed() -> None:
    sent = [MONDAY - days(1), MONDAY + days(1), MONDAY + days(4)]
    answer = next_allowed(sent, MONDAY, DEFAULT)
    assert allows(sent, answer, DEFAULT)


# -- against brute force -------------------------------------------------------------------------


def _brute_allows(deliveries: list[datetime], at: datetime, cap: FrequencyCap, step: timedelta) -> bool:
    """The rules as written, checked by sliding every window that holds `at` one step at a time."""
    if any(abs(d - at) < cap.min_gap for d in deliveries):
        return False
    everything = [*deliveries, at]
    start = at - cap.window + step
    while start <= at:
        if sum(1 for d in everything if start <= d < start + cap.window) > cap.max_in_window:
            return False
        start += step
    return True


MINUTE = timedelta(minutes=1)
caps = st.builds(
    FrequencyCap,
    min_gap_hours=st.integers(0, 120).map(lambda m: m / 60),
    max_in_window=st.integers(1, 3),
    window_days=st.integers(1, 240).map(lambda m: m / 1440),
)
deliveries = st.lists(st.integers(-300, 300).map(lambda m: MONDAY + m * MINUTE), max_size=5)


@settings(max_examples=150, deadline=None)
@given(deliveries=deliveries, at=st.integers(-120, 120).map(lambda m: MONDAY + m * MINUTE), cap=caps)
def test_allows_agrees_with_the_rules_checked_window_by_window(
    deliveries: list[datetime], at: datetime, cap: FrequencyCap
) -> None:
    assert allows(deliveries, at, cap) == _brute_allows(deliveries, at, cap, MINUTE)


@settings(max_examples=150, deadline=None)
@given(deliveries=deliveries, at=st.integers(-120, 120).map(lambda m: MONDAY + m * MINUTE), cap=caps)
def test_next_allowed_is_the_first_allowed_minute(deliveries: list[datetime], at: datetime, cap: FrequencyCap) -> None:
    answer = next_allowed(deliveries, at, cap)
    assert answer >= at
    assert _brute_allows(deliveries, answer, cap, MINUTE)
    # Every whole minute from `at` up to the answer is refused; the answer is never later than needed.
    t = at
    while t < answer:
        assert not _brute_allows(deliveries, t, cap, MINUTE)
        t += MINUTE
