"""Event-time arithmetic shared by the rules: durations in days, decay, and due times."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

SECONDS_PER_DAY = 86_400.0


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_DAY


def after_days(start: datetime, days: float) -> datetime:
    return start + timedelta(days=days)


def decay(value: float, elapsed_days: float, half_life_days: float) -> float:
    return float(value * 2.0 ** (-max(0.0, elapsed_days) / half_life_days))


def crossing_time(value: float, value_at: datetime, threshold: float, half_life_days: float) -> datetime | None:
    """When a decaying ``value`` (valid at ``value_at``) falls below ``threshold``; None if it already has."""
    if value < threshold or threshold <= 0:
        return None
    return after_days(value_at, half_life_days * math.log2(value / threshold))


def due_time(at: datetime) -> datetime:
    """A due time rounded up to the next whole second, so that at it the rule has surely fired.

    Evaluating exactly at a computed crossing can land a hair before it in floating point; the
    member would then be due again at the same instant, forever.
    """
    whole = at.replace(microsecond=0)
    return whole + timedelta(seconds=1)
