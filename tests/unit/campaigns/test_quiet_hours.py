"""Quiet hours: marketing waits for the member's local morning, whatever their zone and its clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.campaigns.domain.quiet_hours import QuietHours, next_send_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ALMATY = ZoneInfo("Asia/Almaty")
TEHRAN = ZoneInfo("Asia/Tehran")
DEFAULT = QuietHours()


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- the default window, 21:30 to 09:00 ----------------------------------------------------------


def test_a_message_at_three_in_the_morning_waits_until_nine() -> None:
    at = datetime(2024, 5, 10, 3, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == datetime(2024, 5, 10, 9, 0, tzinfo=SHANGHAI)


def test_a_message_at_ten_in_the_evening_waits_until_nine_the_next_morning() -> None:
    at = datetime(2024, 5, 10, 22, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == datetime(2024, 5, 11, 9, 0, tzinfo=SHANGHAI)


def test_a_message_at_noon_goes_at_once() -> None:
    at = datetime(2024, 5, 10, 12, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == at


def test_a_message_already_in_the_members_daytime_is_returned_unchanged_whatever_zone_it_was_given_in() -> None:
    at = utc(2024, 5, 10, 4, 0)  # 12:00 in Shanghai
    sent = next_send_time(at, SHANGHAI, DEFAULT)
    assert sent == at
    assert sent.utcoffset() == timedelta(0)


def test_half_past_nine_in_the_evening_is_already_quiet() -> None:
    at = datetime(2024, 5, 10, 21, 30, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == datetime(2024, 5, 11, 9, 0, tzinfo=SHANGHAI)


def test_a_minute_before_half_past_nine_is_still_allowed() -> None:
    at = datetime(2024, 5, 10, 21, 29, 59, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == at


def test_nine_oclock_exactly_is_allowed() -> None:
    at = datetime(2024, 5, 10, 9, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, DEFAULT) == at


def test_a_deferred_time_is_returned_in_utc() -> None:
    sent = next_send_time(datetime(2024, 5, 10, 3, 0, tzinfo=SHANGHAI), SHANGHAI, DEFAULT)
    assert sent.tzinfo is UTC
    assert sent == utc(2024, 5, 10, 1, 0)


def test_quiet_hours_are_judged_in_the_members_zone_not_the_zone_of_the_timestamp() -> None:
    # 14:00 UTC is daytime in London but 22:00 in Shanghai.
    assert next_send_time(utc(2024, 5, 10, 14, 0), SHANGHAI, DEFAULT) == utc(2024, 5, 11, 1, 0)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_time(datetime(2024, 5, 10, 3, 0), SHANGHAI, DEFAULT)


# -- zones with unusual offsets or changed offsets -------------------------------------------------


def test_a_member_in_tehran_gets_nine_oclock_at_a_half_hour_utc_offset() -> None:
    at = datetime(2024, 6, 1, 8, 30, tzinfo=TEHRAN)  # UTC+03:30, no daylight saving since 2022
    assert next_send_time(at, TEHRAN, DEFAULT) == utc(2024, 6, 1, 5, 30)


def test_a_member_in_tehran_is_quiet_from_half_past_nine_local() -> None:
    assert next_send_time(datetime(2024, 6, 1, 21, 29, tzinfo=TEHRAN), TEHRAN, DEFAULT) == datetime(
        2024, 6, 1, 21, 29, tzinfo=TEHRAN
    )
    assert next_send_time(datetime(2024, 6, 1, 21, 30, tzinfo=TEHRAN), TEHRAN, DEFAULT) == utc(2024, 6, 2, 5, 30)


def test_a_member_in_almaty_waits_until_nine_local_time() -> None:
    at = datetime(2024, 6, 1, 6, 0, tzinfo=ALMATY)  # UTC+05:00 since March 2024
    assert next_send_time(at, ALMATY, DEFAULT) == utc(2024, 6, 1, 4, 0)


def test_a_member_in_almaty_keeps_nine_local_across_kazakhstans_change_of_offset() -> None:
    # Almaty moved from UTC+06 to UTC+05 at midnight on 1 March 2024: 22:00 on the 29th is 16:00 UTC,
    # and nine the next morning is 04:00 UTC, an hour later than the old offset would say.
    at = datetime(2024, 2, 29, 22, 0, tzinfo=ALMATY)
    assert at.utcoffset() == timedelta(hours=6)
    assert next_send_time(at, ALMATY, DEFAULT) == utc(2024, 3, 1, 4, 0)


# -- daylight saving -------------------------------------------------------------------------------


def test_nine_oclock_follows_the_clock_on_the_night_summer_time_starts() -> None:
    at = datetime(2024, 3, 30, 22, 0, tzinfo=BERLIN)  # CET, UTC+1
    assert next_send_time(at, BERLIN, DEFAULT) == utc(2024, 3, 31, 7, 0)  # 09:00 CEST, UTC+2


def test_an_end_of_quiet_hours_that_does_not_exist_becomes_the_end_of_the_gap() -> None:
    # On 31 March 2024 Berlin's clocks jump from 02:00 to 03:00; 02:30 never happens.
    quiet = QuietHours(starts=time(21, 30), ends=time(2, 30))
    at = datetime(2024, 3, 31, 1, 0, tzinfo=BERLIN)
    assert next_send_time(at, BERLIN, quiet) == datetime(2024, 3, 31, 3, 0, tzinfo=BERLIN)
    assert next_send_time(at, BERLIN, quiet) == utc(2024, 3, 31, 1, 0)


def test_the_end_of_the_gap_is_used_in_new_york_too() -> None:
    quiet = QuietHours(starts=time(21, 30), ends=time(2, 30))
    at = datetime(2024, 3, 10, 1, 0, tzinfo=NEW_YORK)
    assert next_send_time(at, NEW_YORK, quiet) == utc(2024, 3, 10, 7, 0)  # 03:00 EDT


def test_an_end_of_quiet_hours_that_happens_twice_is_the_first_time() -> None:
    # On 27 October 2024 Berlin's clocks go back from 03:00 to 02:00; 02:30 happens twice.
    quiet = QuietHours(starts=time(21, 30), ends=time(2, 30))
    at = datetime(2024, 10, 27, 1, 0, tzinfo=BERLIN)
    assert next_send_time(at, BERLIN, quiet) == utc(2024, 10, 27, 0, 30)  # 02:30 CEST


def test_during_the_repeated_hour_a_message_after_the_first_pass_waits_for_the_second() -> None:
    quiet = QuietHours(starts=time(21, 30), ends=time(2, 30))
    at = utc(2024, 10, 27, 1, 15).astimezone(BERLIN)  # 02:15 CET, after 02:30 CEST went by
    assert (at.hour, at.minute, at.fold) == (2, 15, 1)
    assert next_send_time(at, BERLIN, quiet) == utc(2024, 10, 27, 1, 30)  # 02:30 CET


def test_the_fall_back_day_in_new_york_uses_the_first_half_past_one() -> None:
    quiet = QuietHours(starts=time(21, 30), ends=time(1, 30))
    at = datetime(2024, 11, 3, 0, 30, tzinfo=NEW_YORK)
    assert next_send_time(at, NEW_YORK, quiet) == utc(2024, 11, 3, 5, 30)  # 01:30 EDT


# -- other shapes of quiet hours -------------------------------------------------------------------

LUNCH = QuietHours(starts=time(12, 0), ends=time(14, 0))


def test_a_quiet_window_within_one_day_defers_to_its_end() -> None:
    at = datetime(2024, 5, 10, 13, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, LUNCH) == datetime(2024, 5, 10, 14, 0, tzinfo=SHANGHAI)
    assert next_send_time(at.replace(hour=12), SHANGHAI, LUNCH) == datetime(2024, 5, 10, 14, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("hour", [0, 3, 11, 14, 23])
def test_outside_a_quiet_window_within_one_day_a_message_goes_at_once(hour: int) -> None:
    at = datetime(2024, 5, 10, hour, 0, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, LUNCH) == at


@pytest.mark.parametrize("hour", [0, 3, 9, 21, 23])
def test_equal_start_and_end_means_no_quiet_hours(hour: int) -> None:
    at = datetime(2024, 5, 10, hour, 45, tzinfo=SHANGHAI)
    assert next_send_time(at, SHANGHAI, QuietHours(starts=time(0, 0), ends=time(0, 0))) == at
    assert next_send_time(at, SHANGHAI, QuietHours(starts=time(21, 30), ends=time(21, 30))) == at


def test_a_calendar_day_that_a_zone_skipped_is_stepped_over() -> None:
    # Samoa skipped 30 December 2011 entirely, going from the 29th straight to the 31st.
    apia = ZoneInfo("Pacific/Apia")
    at = datetime(2011, 12, 29, 23, 0, tzinfo=apia)
    assert next_send_time(at, apia, DEFAULT) == datetime(2011, 12, 31, 9, 0, tzinfo=apia)


# -- for any instant, zone and window ------------------------------------------------------------

ZONES = [SHANGHAI, BERLIN, NEW_YORK, ALMATY, TEHRAN, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Pacific/Apia")]
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    starts=times,
    ends=times,
    given_locally=st.booleans(),
)
def test_the_send_time_is_the_first_allowed_minute_at_or_after_the_request(
    at: datetime, zone: ZoneInfo, starts: time, ends: time, given_locally: bool
) -> None:
    quiet = QuietHours(starts=starts, ends=ends)
    sent = next_send_time(at.astimezone(zone) if given_locally else at, zone, quiet)
    assert sent >= at
    assert not quiet.is_quiet(sent.astimezone(zone).time())
    minute = at
    while minute < sent:
        assert quiet.is_quiet(minute.astimezone(zone).time())
        minute += timedelta(minutes=1)
