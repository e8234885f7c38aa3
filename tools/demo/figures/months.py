"""Month ends between two instants: the axis every "over time" series shares."""

from __future__ import annotations

from datetime import UTC, datetime


def month_ends(start: datetime, end: datetime) -> list[datetime]:
    """The first instant of each month after ``start``'s, up to and including the one holding ``end``."""
    ends = []
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        boundary = datetime(year, month, 1, tzinfo=UTC)
        ends.append(boundary if boundary < end else end)
        if boundary >= end:
            return ends


def label(month_end: datetime) -> str:
    """The month a boundary closes: 2026-03-01 closes "2026-02"; a mid-month end closes its own month."""
    if month_end.day == 1 and month_end.hour == 0 and month_end.minute == 0:
        year, month = (month_end.year - 1, 12) if month_end.month == 1 else (month_end.year, month_end.month - 1)
        return f"{year:04d}-{month:02d}"
    return f"{month_end.year:04d}-{month_end.month:02d}"
