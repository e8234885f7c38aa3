"""When things happen: store hours, weekdays and the seasons, as hour-by-hour intensities.

An ``Intensity`` is a rate multiplier for every hour of the history, in one store's local time
and calendar: store visits follow opening hours (peaks before lunch and after work), web orders
run late into the night (and spike at midnight on Double 11), chat follows waking hours. The
seasons are the chain's own: Spring Festival stock-up and closing days in China, Double 11 and
618 for the web shop, Nauryz in Kazakhstan, Nowruz in Iran (where the weekend is Friday), and
Christmas in London. Arrival times are drawn by inverting the cumulative intensity, so a member's
rate stays their own while the calendar shapes when they come.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

HOUR = 3600  # seconds
DAY = 24.0  # hours
SLOT = 0.5  # hours: intensities change every half hour

# Spring Festival (Chinese New Year's day).
_SPRING_FESTIVAL = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}


def _normalised(weights: tuple[float, ...]) -> tuple[float, ...]:
    mean = sum(weights) / len(weights)
    return tuple(w / mean for w in weights)


# Local hour of day 0..23; each profile averages 1 over a day.
_HOURS = {
    # Stores open 08:00-22:00: a late-morning peak and a bigger one after work.
    "store": _normalised(
        (0, 0, 0, 0, 0, 0, 0, 0, 0.45, 0.75, 1, 1.1, 0.95, 0.75, 0.7, 0.8, 1, 1.3, 1.5, 1.3, 0.9, 0.5, 0, 0)
    ),
    # The web shop: evenings, and a tail past midnight.
    "web": _normalised(
        (
            0.7,
            0.35,
            0.15,
            0.08,
            0.05,
            0.05,
            0.1,
            0.25,
            0.45,
            0.6,
            0.75,
            0.85,
            0.95,
            0.9,
            0.85,
            0.85,
            0.9,
            0.95,
            1,
            1.1,
            1.4,
            1.7,
            1.6,
            1.2,
        )
    ),
    # Chat: waking hours, busiest in the evening.
    "chat": _normalised(
        (
            0.15,
            0.05,
            0.02,
            0.01,
            0.01,
            0.03,
            0.2,
            0.6,
            1,
            1,
            0.9,
            0.9,
            1.2,
            1,
            0.8,
            0.8,
            0.9,
            0.9,
            1,
            1.2,
            1.5,
            1.6,
            1.3,
            0.6,
        )
    ),
}
# Monday..Sunday; Iran's weekend is Thursday-Friday.
_WEEKDAYS = {
    "store": _normalised((0.92, 0.9, 0.92, 0.95, 1.05, 1.18, 1.08)),
    "store-ir": _normalised((0.9, 0.9, 0.95, 1.18, 1.12, 0.95, 0.9)),
    "web": _normalised((1.0, 0.98, 0.98, 1.0, 0.97, 1.0, 1.07)),
    "chat": _normalised((1.0, 1.0, 1.0, 1.0, 0.98, 1.02, 1.0)),
}


def _spring_festival_offset(day: date) -> int | None:
    """Days from the nearest Spring Festival (negative before it), when within four weeks of one."""
    for year in (day.year, day.year + 1):
        festival = _SPRING_FESTIVAL.get(year)
        if festival is not None and -28 <= (day - festival).days <= 28:
            return (day - festival).days
    return None


def _store_season(calendar: str, day: date) -> float:
    if calendar == "cn":
        offset = _spring_festival_offset(day)
        if offset is not None:
            if -21 <= offset <= -1:
                return 1.45  # stocking up for the festival
            if 0 <= offset <= 3:
                return 0.35  # families at home, short opening hours
            if 4 <= offset <= 7:
                return 0.8
        if day.month == 10 and day.day <= 7:
            return 1.2  # National Day week
        return 1.1 if day.month == 12 else 1.0
    if calendar == "kz":
        if day.month == 3 and 16 <= day.day <= 20:
            return 1.25  # before Nauryz
        if day.month == 3 and 21 <= day.day <= 23:
            return 0.6
        if day.month == 12 and day.day >= 20:
            return 1.35  # New Year is the big one
        return 0.5 if day.month == 1 and day.day <= 2 else 1.0
    if calendar == "ir":
        if day.month == 3 and 6 <= day.day <= 19:
            return 1.6  # Nowruz shopping
        if day.month == 3 and 20 <= day.day <= 24:
            return 0.3
        return 0.8 if (day.month, day.day) >= (3, 25) and (day.month, day.day) <= (4, 2) else 1.0
    # uk
    if day.month == 12 and day.day == 25:
        return 0.0  # closed on Christmas Day
    if day.month == 12 and day.day == 24:
        return 1.4
    if day.month == 12 and day.day == 26:
        return 0.7
    return 1.2 if (day.month == 12 and day.day < 24) or (day.month == 11 and day.day >= 28) else 1.0


def _web_season(calendar: str, day: date, hour: int) -> float:
    if day.month == 11 and day.day == 11:
        return 18.0 if hour == 0 else 6.0  # Double 11: the midnight rush, then a day of orders
    if day.month == 11 and (day.day <= 10 or day.day == 12):
        return 1.4
    if day.month == 6 and day.day == 18:
        return 3.0  # 618
    if day.month == 6 and day.day < 18:
        return 1.15
    offset = _spring_festival_offset(day) if calendar == "cn" else None
    if offset is not None and -21 <= offset <= -8:
        return 1.3
    if offset is not None and -7 <= offset <= 3:
        return 0.5  # couriers are off
    return 1.2 if day.month == 12 else 1.0


def _chat_season(calendar: str, day: date) -> float:
    offset = _spring_festival_offset(day) if calendar == "cn" else None
    if offset == -1:
        return 2.5  # New Year's Eve greetings
    if offset is not None and 0 <= offset <= 2:
        return 1.8
    if calendar in ("ir", "kz") and day.month == 3 and 20 <= day.day <= 22:
        return 2.0  # Nowruz / Nauryz greetings
    return 1.5 if day.month == 12 and day.day == 31 else 1.0


@dataclass(frozen=True)
class Window:
    """The simulated history: hours are counted from ``start``."""

    start: datetime
    end: datetime
    backfill_until: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / HOUR

    def second(self, second: int) -> datetime:
        """The UTC instant ``second`` seconds into the history."""
        return self.start + timedelta(seconds=second)

    def moment(self, hour: float) -> datetime:
        """The UTC instant ``hour`` hours into the history, to the second."""
        return self.start + timedelta(seconds=math.floor(hour * HOUR))


class Intensity:
    """A rate multiplier per half hour of the history, for one profile, time zone and calendar.

    Slots are aligned to :00 and :30 UTC, so they match local hours in every zone, Tehran's +03:30 included.
    """

    def __init__(self, window: Window, profile: str, timezone: str, calendar: str) -> None:
        zone = ZoneInfo(timezone)
        hour_weights = _HOURS[profile]
        weekdays = _WEEKDAYS["store-ir" if profile == "store" and calendar == "ir" else profile]
        origin = window.start.replace(minute=0 if window.start.minute < 30 else 30, second=0, microsecond=0)
        self._shift = (window.start - origin).total_seconds() / HOUR  # hours from the first slot to the start
        self.weights: list[float] = []
        for n in range(math.ceil((window.hours + self._shift) / SLOT)):
            local = (origin + timedelta(hours=(n + 0.5) * SLOT)).astimezone(zone)
            day = local.date()
            if profile == "store":
                season = _store_season(calendar, day)
            elif profile == "web":
                season = _web_season(calendar, day, local.hour)
            else:
                season = _chat_season(calendar, day)
            self.weights.append(hour_weights[local.hour] * weekdays[local.weekday()] * season)
        # cumulative[n]: expected arrivals before slot n at one arrival a day (so its units are days).
        self.cumulative = [0.0]
        for weight in self.weights:
            self.cumulative.append(self.cumulative[-1] + weight * SLOT / DAY)

    def mass(self, hour: float) -> float:
        """The cumulative intensity at ``hour`` (hours from the start of history)."""
        slot = min(max((hour + self._shift) / SLOT, 0.0), float(len(self.weights)))
        n = min(int(slot), len(self.weights) - 1)
        return self.cumulative[n] + (slot - n) * self.weights[n] * SLOT / DAY

    def hour_of(self, mass: float) -> float:
        """The hour at which the cumulative intensity reaches ``mass`` (inside a slot with weight > 0)."""
        n = min(bisect_right(self.cumulative, mass) - 1, len(self.weights) - 1)
        weight = self.weights[n]
        slot = n + ((mass - self.cumulative[n]) * DAY / (weight * SLOT) if weight else 0.0)
        return slot * SLOT - self._shift

    def poisson(self, rng: random.Random, per_day: float, start: float, end: float) -> list[float]:
        """Arrival hours in [start, end) of a Poisson process of ``per_day`` arrivals on an average day."""
        return self.renewal(rng, per_day, start, end, shape=1.0)

    def renewal(self, rng: random.Random, per_day: float, start: float, end: float, shape: float) -> list[float]:
        """Like ``poisson`` with Gamma(shape) gaps: shape > 1 makes a regular rhythm (replenishment shoppers)."""
        if per_day <= 0 or end <= start:
            return []
        low, high = self.mass(start), self.mass(end)
        # Seen from an arbitrary start, the first gap is a uniform part of a length-biased gap (Gamma(shape + 1)).
        first = rng.gammavariate(shape + 1, 1 / (shape * per_day)) * rng.random() if shape > 1 else None
        mass = low + (first if first is not None else rng.gammavariate(shape, 1 / (shape * per_day)))
        arrivals = []
        while mass < high:
            arrivals.append(self.hour_of(mass))
            mass += rng.gammavariate(shape, 1 / (shape * per_day))
        return arrivals

    def one(self, rng: random.Random, start: float, end: float) -> float | None:
        """One arrival in [start, end), placed by the intensity; None when it is zero throughout."""
        low, high = self.mass(start), self.mass(end)
        return self.hour_of(low + rng.random() * (high - low)) if high > low else None


class Intensities:
    """Each (profile, time zone, calendar) intensity is built once per history and shared."""

    def __init__(self, window: Window) -> None:
        self.window = window
        self._built: dict[tuple[str, str, str], Intensity] = {}

    def get(self, profile: str, timezone: str, calendar: str) -> Intensity:
        key = (profile, timezone, calendar)
        if key not in self._built:
            self._built[key] = Intensity(self.window, profile, timezone, calendar)
        return self._built[key]
