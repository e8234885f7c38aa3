"""Gamma-Gamma: the fit reproduces the published CDNOW estimates; expected spend agrees with lifetimes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from lifetimes import GammaGammaFitter

from services.scoring.domain.gamma_gamma import GammaGammaParams, compress, expected_spend, fit, log_likelihood
from tests.unit.scoring import cdnow

# Fader & Hardie (2013), note 025, on the 946 CDNOW customers with a repeat purchase (dollars).
# lifetimes' documentation reports the same fit as v = 15.45: on the CSV's zbar (rounded to cents)
# the maximum is at v = 15.4477, between the two roundings.
PUBLISHED = GammaGammaParams(p=6.25, q=3.74, v=15.44)


@pytest.fixture(scope="module")
def fitted() -> GammaGammaParams:
    data = cdnow.load()
    return fit(data.x, data.mean_spend)


def _lifetimes(params: GammaGammaParams) -> GammaGammaFitter:
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({"p": params.p, "q": params.q, "v": params.v})
    return fitter


def test_fit_reproduces_the_published_cdnow_estimates(fitted: GammaGammaParams) -> None:
    assert fitted.p == pytest.approx(PUBLISHED.p, abs=0.005)
    assert fitted.q == pytest.approx(PUBLISHED.q, abs=0.005)
    assert 15.435 <= fitted.v < 15.455  # rounds to 15.44 (note 025) or 15.45 (lifetimes)


def test_fit_uses_only_members_with_a_repeat_purchase(fitted: GammaGammaParams) -> None:
    assert fitted.members == 946
    data = cdnow.load()
    buyers = data.x > 0
    assert fit(data.x[buyers], data.mean_spend[buyers]) == fitted


def test_the_fit_is_a_maximum_nudging_any_parameter_lowers_the_likelihood(fitted: GammaGammaParams) -> None:
    data = cdnow.load()
    best = log_likelihood(fitted, data.x, data.mean_spend)
    assert best == pytest.approx(fitted.log_likelihood, rel=1e-12)
    for name in ("p", "q", "v"):
        for factor in (0.99, 1.01):
            nudged = dataclasses.replace(fitted, **{name: getattr(fitted, name) * factor})
            assert log_likelihood(nudged, data.x, data.mean_spend) < best, (name, factor)


def test_the_money_unit_only_rescales_v(fitted: GammaGammaParams) -> None:
    """The service keeps money in minor units: cents give v in cents and the same p and q."""
    data = cdnow.load()
    cents = fit(data.x, data.mean_spend * 100)
    assert cents.v == pytest.approx(fitted.v * 100, rel=1e-6)
    assert (cents.p, cents.q) == pytest.approx((fitted.p, fitted.q), rel=1e-6)


def test_compressed_pairs_give_the_same_likelihood_as_every_member() -> None:
    data = cdnow.load()
    pairs = compress(data.x, data.mean_spend)
    assert pairs.weights.sum() == 946
    assert len(pairs.frequency) < 946
    assert np.all(pairs.frequency > 0)
    per_member = log_likelihood(PUBLISHED, data.x, data.mean_spend)
    assert log_likelihood(PUBLISHED, *pairs) == pytest.approx(per_member, rel=1e-12)


def test_expected_spend_matches_lifetimes_on_every_repeat_customer() -> None:
    data = cdnow.load()
    buyers = data.x > 0
    reference = _lifetimes(PUBLISHED).conditional_expected_average_profit(data.x[buyers], data.mean_spend[buyers])
    ours = expected_spend(PUBLISHED, data.x[buyers], data.mean_spend[buyers])
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=0)


def test_without_a_repeat_purchase_expected_spend_is_the_population_mean() -> None:
    assert expected_spend(PUBLISHED, 0, 0.0) == pytest.approx(PUBLISHED.p * PUBLISHED.v / (PUBLISHED.q - 1))
    assert expected_spend(PUBLISHED, 0, 500.0) == pytest.approx(PUBLISHED.population_mean_spend)


def test_expected_spend_moves_from_the_population_mean_toward_the_members_own_as_purchases_add_up() -> None:
    big_spender = 100.0
    spend = expected_spend(PUBLISHED, np.arange(0, 50), big_spender)
    assert spend[0] == pytest.approx(PUBLISHED.population_mean_spend)
    assert np.all(np.diff(spend) > 0)
    assert spend[-1] < big_spender
    assert big_spender - spend[-1] < 0.05 * (big_spender - PUBLISHED.population_mean_spend)


@pytest.mark.parametrize(
    ("frequency", "mean_spend", "message"),
    [
        ([], [], "no members"),
        ([1, 2], [3.0], "one length"),
        ([0, 0], [0.0, 0.0], "no member has a repeat purchase"),
        ([-1, 2], [3.0, 4.0], "whole number"),
        ([1.5, 2], [3.0, 4.0], "whole number"),
        ([1, 2], [0.0, 4.0], "mean spend ≤ 0"),
        ([1, 2], [float("nan"), 4.0], "not finite"),
    ],
)
def test_fit_rejects_impossible_spends(frequency: list[float], mean_spend: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit(frequency, mean_spend)


def test_params_must_be_positive() -> None:
    with pytest.raises(ValueError, match="q"):
        GammaGammaParams(p=6.25, q=-1.0, v=15.44)
