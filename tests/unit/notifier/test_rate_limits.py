"""The bucket a provider's rate limit becomes: its burst, less room for calls that bunch up on the way."""

import pytest

from services.notifier.entrypoints.settings import NotifierSettings, RateLimit


def test_the_bucket_keeps_back_what_the_rate_sends_in_the_headroom():
    limit = RateLimit(per_second=1000, burst=100)
    assert limit.bucket_capacity(0.03) == pytest.approx(70.0)


def test_without_headroom_the_bucket_is_the_providers_burst():
    assert RateLimit(per_second=1000, burst=100).bucket_capacity(0.0) == 100.0


def test_a_headroom_larger_than_the_burst_still_leaves_one_whole_token():
    assert RateLimit(per_second=50, burst=1).bucket_capacity(0.03) == 1.0


def test_the_headroom_defaults_to_30_ms_and_is_configurable(monkeypatch: pytest.MonkeyPatch):
    assert NotifierSettings().rate_headroom_seconds == pytest.approx(0.03)
    monkeypatch.setenv("MP_NOTIFIER_RATE_HEADROOM_SECONDS", "0.01")
    assert NotifierSettings().rate_headroom_seconds == pytest.approx(0.01)
