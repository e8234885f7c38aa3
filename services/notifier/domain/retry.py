"""Retries: which failures are worth another attempt, and how long to wait before it.

Transient failures (timeouts, resets, 408, 425, 429, 5xx) are retried with exponential backoff and
symmetric jitter, so replicas that failed together do not all retry together. ``cap_s`` is a hard
ceiling on our own schedule, jitter included. A provider's Retry-After is honoured above it: we never
call back sooner than the provider asked, even when that is later than the cap. Permanent failures
(other 4xx, provider codes such as an invalid number) are never retried; the caller falls back to
the next channel instead. The random source is a parameter so the schedule is testable exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from services.notifier.domain.messages import Failure, FailureKind

# 408 Request Timeout, 425 Too Early and 429 Too Many Requests are the 4xx that go away by waiting.
TRANSIENT_4XX = frozenset({408, 425, 429})
# RFC 9110 delta-seconds is digits only; a fraction is tolerated because some gateways send one.
_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts every attempt, the first included; ``jitter`` is a fraction of the delay."""

    max_attempts: int = 5
    base_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not (math.isfinite(self.base_s) and self.base_s > 0):
            raise ValueError(f"base_s must be a positive number of seconds, got {self.base_s}")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise ValueError(f"factor must be at least 1 (a backoff never shrinks), got {self.factor}")
        if not (math.isfinite(self.cap_s) and self.cap_s >= self.base_s):
            raise ValueError(f"cap_s must be at least base_s ({self.base_s}), got {self.cap_s}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter is a fraction in [0, 1), got {self.jitter}")

    def backoff(self, attempt: int) -> float:
        """The delay after ``attempt`` before jitter: ``base * factor**(attempt-1)``, capped."""
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        try:
            raw = self.base_s * self.factor ** (attempt - 1)
        except OverflowError:
            # A long-running policy with many attempts: past the float range it is at the cap anyway.
            return self.cap_s
        return min(raw, self.cap_s)


def next_retry_delay(policy: RetryPolicy, attempt: int, failure: Failure, rand: Callable[[], float]) -> float | None:
    """Seconds to wait before the next attempt, None when there must be none.

    ``attempt`` is the number of attempts made so far (the failed one included, from 1); ``rand``
    returns a value in [0, 1), ``random.random`` in production.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if failure.kind is FailureKind.PERMANENT or attempt >= policy.max_attempts:
        return None
    r = rand()
    if not 0 <= r < 1:
        raise ValueError(f"rand() must return a value in [0, 1), got {r}")
    delay = min(policy.backoff(attempt) * (1 + policy.jitter * (2 * r - 1)), policy.cap_s)
    asked = failure.retry_after_s
    if asked is None or not math.isfinite(asked) or asked < 0:
        return delay
    return min(max(asked, delay), max(policy.cap_s, asked))


def classify_http_status(status: int, retry_after: str | None, now: datetime) -> Failure | None:
    """What an HTTP status means for a send: None for success, else a transient or permanent failure.

    ``retry_after`` is the raw Retry-After header; it is kept on transient failures only (a permanent
    failure is not retried, so when to retry is moot). A status outside 100-599 is a broken provider,
    not a passing hiccup, and fails permanently like any other status we cannot act on.
    """
    if 200 <= status <= 299:
        return None
    code = f"http_{status}"
    if status in TRANSIENT_4XX or 500 <= status <= 599:
        return Failure(FailureKind.TRANSIENT, code, f"HTTP {status}", parse_retry_after(retry_after, now))
    return Failure(FailureKind.PERMANENT, code, f"HTTP {status}")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from ``now`` that a Retry-After header asks for (delta-seconds or HTTP-date); None if unusable.

    A date already past is no request to wait, so it is None like garbage: the normal backoff applies.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("parse_retry_after needs a timezone-aware now")
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # "-0000" parses to a naive datetime; an HTTP-date is always GMT.
        when = when.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return seconds if seconds >= 0 else None
