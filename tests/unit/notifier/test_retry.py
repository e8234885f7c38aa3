"""Retries: exponential backoff with jitter for transient failures, none for permanent ones, Retry-After honoured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from services.notifier.domain.messages import Failure, FailureKind
from services.notifier.domain.retry import RetryPolicy, classify_http_status, next_retry_delay, parse_retry_after

POLICY = RetryPolicy()
NO_JITTER = RetryPolicy(jitter=0.0)
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
TIMEOUT = Failure(FailureKind.TRANSIENT, "timeout")
INVALID_NUMBER = Failure(FailureKind.PERMANENT, "invalid_number")


def middle() -> float:
    """rand() at 0.5: jitter contributes nothing."""
    return 0.5


def lowest() -> float:
    return 0.0


def highest() -> float:
    return 0.999999


def throttled(retry_after_s: float | None) -> Failure:
    return Failure(FailureKind.TRANSIENT, "http_429", retry_after_s=retry_after_s)


# -- the policy ------------------------------------------------------------------------------------


def test_the_default_policy_is_five_attempts_from_one_second_doubling_up_to_five_minutes_with_20pct_jitter() -> None:
    assert (POLICY.max_attempts, POLICY.base_s, POLICY.factor, POLICY.cap_s, POLICY.jitter) == (5, 1.0, 2.0, 300.0, 0.2)


@pytest.mark.parametrize(
    "bad",
    [
        {"max_attempts": 0},
        {"base_s": 0.0},
        {"base_s": float("nan")},
        {"factor": 0.5},
        {"cap_s": 0.5},
        {"cap_s": float("inf")},
        {"jitter": -0.1},
        {"jitter": 1.0},
    ],
    ids=str,
)
def test_a_policy_that_cannot_make_a_sane_schedule_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each field has its own message
        RetryPolicy(**bad)  # type: ignore[arg-type]


# -- backoff ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)])
def test_the_delay_doubles_with_every_attempt(attempt: int, delay: float) -> None:
    assert next_retry_delay(POLICY, attempt, TIMEOUT, middle) == delay


def test_the_delay_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, cap_s=60.0, jitter=0.0)

    assert next_retry_delay(policy, 7, TIMEOUT, middle) == 60.0
    assert next_retry_delay(policy, 19, TIMEOUT, middle) == 60.0


def test_an_attempt_count_far_beyond_the_float_range_is_simply_at_the_cap() -> None:
    policy = RetryPolicy(max_attempts=1_000_000, jitter=0.0)

    assert next_retry_delay(policy, 5_000, TIMEOUT, middle) == 300.0


# -- jitter ----------------------------------------------------------------------------------------


def test_jitter_spreads_the_delay_symmetrically_by_the_jitter_fraction() -> None:
    assert next_retry_delay(POLICY, 3, TIMEOUT, lowest) == pytest.approx(4.0 * 0.8)
    assert next_retry_delay(POLICY, 3, TIMEOUT, highest) == pytest.approx(4.0 * 1.2, rel=1e-5)


def test_jitter_never_pushes_a_delay_past_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, cap_s=60.0)

    assert next_retry_delay(policy, 10, TIMEOUT, highest) == 60.0
    assert next_retry_delay(policy, 10, TIMEOUT, lowest) == pytest.approx(48.0)


def test_without_jitter_the_random_value_does_not_matter() -> None:
    assert next_retry_delay(NO_JITTER, 2, TIMEOUT, lowest) == next_retry_delay(NO_JITTER, 2, TIMEOUT, highest) == 2.0


@pytest.mark.parametrize("value", [-0.1, 1.0, float("nan")])
def test_a_random_source_outside_zero_to_one_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        next_retry_delay(POLICY, 1, TIMEOUT, lambda: value)


# -- when to stop ----------------------------------------------------------------------------------


def test_a_permanent_failure_is_never_retried() -> None:
    assert next_retry_delay(POLICY, 1, INVALID_NUMBER, middle) is None


def test_a_permanent_failure_is_not_retried_even_when_it_names_a_retry_after() -> None:
    assert next_retry_delay(POLICY, 1, Failure(FailureKind.PERMANENT, "http_400", retry_after_s=5), middle) is None


def test_the_last_allowed_attempt_gets_no_retry() -> None:
    assert next_retry_delay(POLICY, 4, TIMEOUT, middle) is not None
    assert next_retry_delay(POLICY, 5, TIMEOUT, middle) is None
    assert next_retry_delay(POLICY, 6, TIMEOUT, middle) is None


def test_a_single_attempt_policy_never_retries() -> None:
    assert next_retry_delay(RetryPolicy(max_attempts=1), 1, TIMEOUT, middle) is None


def test_retry_after_does_not_buy_an_attempt_beyond_the_limit() -> None:
    assert next_retry_delay(POLICY, 5, throttled(1.0), middle) is None


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        next_retry_delay(POLICY, attempt, TIMEOUT, middle)


# -- Retry-After -----------------------------------------------------------------------------------


def test_a_retry_after_longer_than_the_backoff_is_waited_out() -> None:
    assert next_retry_delay(POLICY, 1, throttled(30.0), highest) == 30.0


def test_a_retry_after_shorter_than_the_backoff_does_not_shorten_it() -> None:
    assert next_retry_delay(NO_JITTER, 4, throttled(2.0), middle) == 8.0


def test_a_retry_after_beyond_the_cap_is_still_honoured() -> None:
    assert next_retry_delay(POLICY, 1, throttled(3600.0), middle) == 3600.0


def test_a_retry_after_of_zero_leaves_the_backoff_as_it_is() -> None:
    assert next_retry_delay(NO_JITTER, 3, throttled(0.0), middle) == 4.0


@pytest.mark.parametrize("nonsense", [-5.0, float("nan"), float("inf")])
def test_a_nonsensical_retry_after_is_ignored(nonsense: float) -> None:
    assert next_retry_delay(NO_JITTER, 3, throttled(nonsense), middle) == 4.0


# -- HTTP statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_a_2xx_is_no_failure(status: int) -> None:
    assert classify_http_status(status, None, NOW) is None


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 599])
def test_timeouts_throttling_and_server_errors_are_transient(status: int) -> None:
    failure = classify_http_status(status, None, NOW)

    assert failure is not None
    assert (failure.kind, failure.code) == (FailureKind.TRANSIENT, f"http_{status}")


@pytest.mark.parametrize("status", [300, 301, 304, 400, 401, 403, 404, 409, 410, 413, 422, 451, 499])
def test_other_client_errors_and_redirects_are_permanent(status: int) -> None:
    failure = classify_http_status(status, None, NOW)

    assert failure is not None
    assert (failure.kind, failure.code) == (FailureKind.PERMANENT, f"http_{status}")


@pytest.mark.parametrize("status", [0, 100, 101, 600, 999])
def test_a_status_outside_the_final_http_range_is_permanent(status: int) -> None:
    failure = classify_http_status(status, None, NOW)

    assert failure is not None
    assert failure.kind is FailureKind.PERMANENT


def test_a_429_carries_its_retry_after_seconds() -> None:
    assert classify_http_status(429, "120", NOW) == Failure(FailureKind.TRANSIENT, "http_429", "HTTP 429", 120.0)


def test_a_503_carries_its_retry_after_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=90), usegmt=True)

    failure = classify_http_status(503, header, NOW)

    assert failure is not None
    assert failure.retry_after_s == 90.0


def test_a_permanent_failure_drops_the_retry_after() -> None:
    failure = classify_http_status(400, "120", NOW)

    assert failure is not None
    assert failure.retry_after_s is None


def test_a_classified_429_feeds_the_retry_schedule() -> None:
    failure = classify_http_status(429, "45", NOW)

    assert failure is not None
    assert next_retry_delay(POLICY, 1, failure, middle) == 45.0


# -- parsing Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 30 ", 30.0),
        ("1.5", 1.5),
        ("Tue, 10 Mar 2026 04:02:00 GMT", 120.0),
        ("Tue, 10 Mar 2026 04:00:00 GMT", 0.0),
        ("Tue, 10 Mar 2026 04:01:00 -0000", 60.0),
        ("Tue, 10 Mar 2026 12:01:00 +0800", 60.0),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_an_http_date(header: str, seconds: float) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "-5",
        "soon",
        "1e3",
        "1_000",
        "٣",
        "NaN",
        "inf",
        "9" * 400,
        "Tue, 10 Mar 2026 03:59:59 GMT",
        "Tue, 99 Foo 2026 04:00:00 GMT",
    ],
    ids=repr,
)
def test_a_missing_past_negative_or_garbage_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, NOW) is None


def test_retry_after_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_retry_after("5", datetime(2026, 3, 10, 4, 0))  # a naive now is the point of the test
