"""Frequency caps: how often one member may receive marketing on one channel.

Two rules over delivery times, both measured in absolute time (not calendar days), so they hold the
same in every zone and across daylight-saving changes:

* a minimum gap: no two deliveries closer than `min_gap_hours`;
* a rolling window: at most `max_in_window` deliveries in any `window_days` span.

Deliveries already scheduled for the future count as well as past ones: a message deferred through
quiet hours still reaches the member, so a new one must keep its distance from it on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FrequencyCap:
    """The defaults keep marketing messages at least two days apart and at most two a week."""

    min_gap_hours: float = 48.0
    max_in_window: int = 2
    window_days: float = 7.0

    def __post_init__(self) -> None:
        if self.min_gap_hours < 0:
            raise ValueError("min_gap_hours must not be negative")
        # With no room in the window no delivery would ever be allowed and `next_allowed` could not answer.
        if self.max_in_window < 1:
            raise ValueError("max_in_window must be at least 1")
        if self.window_days <= 0:
            raise ValueError("window_days must be positive")

    @property
    def min_gap(self) -> timedelta:
        return timedelta(hours=self.min_gap_hours)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


def allows(deliveries: Sequence[datetime], at: datetime, cap: FrequencyCap) -> bool:
    """True when a delivery at `at` respects the cap given the deliveries already issued (past or future).

    The window rule is judged on the windows the new delivery would belong to: deliveries made under
    an older, looser cap may already crowd some other week, and that must not block this one forever.
    """
    gap, window = cap.min_gap, cap.window
    if any(abs(d - at) < gap for d in deliveries):
        return False
    # A half-open window [s, s + window) holding `at` starts in (at - window, at]. The fullest such
    # window can be slid right until its start meets a delivery (or `at` itself) without losing any,
    # so only those starts need counting.
    nearby = sorted(d for d in deliveries if at - window < d < at + window)
    starts = [at, *(d for d in nearby if d <= at)]
    fullest = max(1 + sum(1 for d in nearby if s <= d < s + window) for s in starts)
    return fullest <= cap.max_in_window


def next_allowed(deliveries: Sequence[datetime], at: datetime, cap: FrequencyCap) -> datetime:
    """The earliest time at or after `at` at which `allows(deliveries, t, cap)` holds."""
    # A time that is not allowed only becomes allowed when a delivery leaves the minimum gap
    # (d + min_gap) or leaves the windows around it (d + window); both rules are closed at that
    # instant. So the answer is `at` or one of those instants; past the last of them nothing is
    # near enough to object, and since max_in_window >= 1 the search always ends.
    candidates = sorted({at, *(t for d in deliveries for t in (d + cap.min_gap, d + cap.window) if t > at)})
    for candidate in candidates:
        if allows(deliveries, candidate, cap):
            return candidate
    raise AssertionError("unreachable: the last candidate is always allowed")  # pragma: no cover
