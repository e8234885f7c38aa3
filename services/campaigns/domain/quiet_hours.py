"""Quiet hours: marketing waits until the member's local morning instead of waking them up.

A message due in quiet hours is deferred, not dropped: `next_send_time` says when it may go.
The rule is stated in local wall-clock time in the member's own zone, so it follows the member
through daylight-saving changes and zones with half-hour offsets or changed offsets. Where the
local end of quiet hours does not exist (spring forward) the message goes at the first instant
after the gap; where it happens twice (fall back) it goes at the first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Enough to step past any real zone transition, including a skipped calendar day; a bound
# only so that a corrupt zone cannot loop forever.
_MAX_STEPS = 4


@dataclass(frozen=True)
class QuietHours:
    """Sends are allowed from `ends` up to (not including) `starts`, local time; quiet otherwise.

    The quiet window may cross midnight (the default, 21:30–09:00) or not (e.g. 12:00–14:00);
    `starts == ends` means there are no quiet hours.
    """

    starts: time = time(21, 30)
    ends: time = time(9, 0)

    def __post_init__(self) -> None:
        if self.starts.tzinfo is not None or self.ends.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times; they must not carry a tzinfo")

    def is_quiet(self, wall: time) -> bool:
        """True when the local wall-clock time `wall` falls in quiet hours."""
        if self.starts == self.ends:
            return False
        if self.starts < self.ends:
            return self.starts <= wall < self.ends
        return wall >= self.starts or wall < self.ends


def next_send_time(at: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """`at` when it is outside quiet hours in `zone`; otherwise the first allowed instant after it, in UTC."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("next_send_time needs a timezone-aware datetime")
    candidate = at
    for _ in range(_MAX_STEPS):
        local = candidate.astimezone(zone)
        if not quiet.is_quiet(local.time()):
            return at if candidate is at else candidate.astimezone(UTC)
        candidate = _end_of_quiet(local, zone, quiet.ends)
    raise ValueError(f"no allowed send time found after {at.isoformat()} in {zone.key}")


def _end_of_quiet(local: datetime, zone: ZoneInfo, ends: time) -> datetime:
    """The next instant after `local` (which is in quiet hours) at which the wall clock reads `ends`."""
    day = local.date() if local.time() < ends else local.date() + timedelta(days=1)
    # Compared in UTC: Python never calls an ambiguous local time equal to an instant in another zone.
    now = local.astimezone(UTC)
    first = _wall_to_instant(day, ends, zone, fold=0)
    if first > now:
        return first
    # Only in a repeated hour: `local` is the second pass and the first `ends` has already gone by.
    second = _wall_to_instant(day, ends, zone, fold=1)
    if second > now:
        return second
    return _wall_to_instant(day + timedelta(days=1), ends, zone, fold=0)


def _wall_to_instant(day: date, wall: time, zone: ZoneInfo, fold: int) -> datetime:
    """The instant (UTC) the local clock reads `wall` on `day`; the end of the gap when it never does."""
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # The wall time falls in a gap. The two folds then map to instants either side of the
    # transition; the first instant after the gap is the transition itself.
    low, high = sorted(naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high
