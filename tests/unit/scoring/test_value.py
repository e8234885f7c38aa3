"""Customer value agrees with lifetimes' CLV, does not depend on the time unit, and behaves as money should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, GammaGammaFitter

from services.scoring.domain.bgnbd import BgNbdParams, expected_purchases
from services.scoring.domain.gamma_gamma import GammaGammaParams, expected_spend
from services.scoring.domain.value import customer_value, value_at_risk
from tests.unit.scoring import cdnow

BG = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW, weeks
GG = GammaGammaParams(p=6.25, q=3.74, v=15.44)  # CDNOW, dollars
WEEKS_PER_MONTH = 4.345  # lifetimes' factor for freq="W"


def _lifetimes_clv(months: int, monthly_discount: float) -> np.ndarray:
    data = cdnow.load()
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series({"r": BG.r, "alpha": BG.alpha, "a": BG.a, "b": BG.b})
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # fit() would set it
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series({"p": GG.p, "q": GG.q, "v": GG.v})
    series = [pd.Series(column) for column in (data.x, data.t_x, data.T, data.mean_spend)]
    clv = ggf.customer_lifetime_value(bgf, *series, time=months, discount_rate=monthly_discount, freq="W")
    return np.asarray(clv, dtype=np.float64)


def _cdnow_value(
    *,
    bg: BgNbdParams = BG,
    days_per_week: float = 1.0,
    horizon_periods: float,
    periods_per_step: float,
    discount_rate_per_step: float,
) -> np.ndarray:
    """Every CDNOW customer's value; ``days_per_week=7`` restates their histories in days."""
    data = cdnow.load()
    return customer_value(
        bg,
        GG,
        data.x,
        data.t_x * days_per_week,
        data.T * days_per_week,
        data.mean_spend,
        horizon_periods=horizon_periods,
        periods_per_step=periods_per_step,
        discount_rate_per_step=discount_rate_per_step,
    )


@pytest.mark.parametrize(
    ("months", "monthly_discount"),
    [(12, 0.01), (60, 1.10 ** (1 / 12) - 1)],
    ids=["1y-at-1pct-a-month", "5y-at-10pct-a-year"],
)
def test_customer_value_matches_lifetimes_clv_on_every_cdnow_customer(months: int, monthly_discount: float) -> None:
    ours = _cdnow_value(
        horizon_periods=months * WEEKS_PER_MONTH,
        periods_per_step=WEEKS_PER_MONTH,
        discount_rate_per_step=monthly_discount,
    )
    np.testing.assert_allclose(ours, _lifetimes_clv(months, monthly_discount), rtol=1e-6, atol=0)


def test_customer_value_does_not_depend_on_the_time_unit() -> None:
    """The service works in days: the same members and calendar steps in days give the same value."""
    in_weeks = _cdnow_value(
        horizon_periods=12 * WEEKS_PER_MONTH, periods_per_step=WEEKS_PER_MONTH, discount_rate_per_step=0.01
    )
    in_days = _cdnow_value(
        bg=BgNbdParams(r=BG.r, alpha=BG.alpha * 7, a=BG.a, b=BG.b),
        days_per_week=7.0,
        horizon_periods=12 * WEEKS_PER_MONTH * 7,
        periods_per_step=WEEKS_PER_MONTH * 7,
        discount_rate_per_step=0.01,
    )
    np.testing.assert_allclose(in_days, in_weeks, rtol=1e-9)


def test_undiscounted_value_is_expected_purchases_times_expected_spend() -> None:
    """With no discounting the steps telescope to E[purchases over the horizon] × E[spend]."""
    value = customer_value(
        BG, GG, 2, 30.43, 38.86, 22.35, horizon_periods=52.0, periods_per_step=4.0, discount_rate_per_step=0.0
    )
    assert value == pytest.approx(expected_purchases(BG, 52.0, 2, 30.43, 38.86) * expected_spend(GG, 2, 22.35))


def test_a_horizon_between_whole_steps_ends_with_a_shorter_step() -> None:
    """Nothing past the horizon counts: 2.5 steps are worth more than 2 and less than 3."""

    def value(horizon: float) -> float:
        return customer_value(
            BG, GG, 2, 30.43, 38.86, 22.35, horizon_periods=horizon, periods_per_step=4.0, discount_rate_per_step=0.01
        )

    assert value(8.0) < value(10.0) < value(12.0)
    undiscounted = customer_value(
        BG, GG, 2, 30.43, 38.86, 22.35, horizon_periods=10.0, periods_per_step=4.0, discount_rate_per_step=0.0
    )
    assert undiscounted == pytest.approx(expected_purchases(BG, 10.0, 2, 30.43, 38.86) * expected_spend(GG, 2, 22.35))


def test_discounting_lowers_value_and_a_longer_horizon_raises_it() -> None:
    def value(horizon: float, discount: float) -> float:
        return customer_value(
            BG,
            GG,
            2,
            30.43,
            38.86,
            22.35,
            horizon_periods=horizon,
            periods_per_step=4.345,
            discount_rate_per_step=discount,
        )

    assert value(52.14, 0.02) < value(52.14, 0.01) < value(52.14, 0.0)
    assert value(52.14, 0.01) < value(104.28, 0.01)


def test_a_member_without_repeat_purchases_is_valued_at_the_population_mean_spend() -> None:
    value = customer_value(
        BG, GG, 0, 0.0, 38.86, 0.0, horizon_periods=52.0, periods_per_step=52.0, discount_rate_per_step=0.0
    )
    assert value == pytest.approx(expected_purchases(BG, 52.0, 0, 0.0, 38.86) * GG.population_mean_spend)
    assert value > 0


@pytest.mark.parametrize(
    ("horizon", "step", "discount", "message"),
    [(0.0, 4.0, 0.01, "horizon"), (52.0, 0.0, 0.01, "periods_per_step"), (52.0, 4.0, -1.0, "discount")],
)
def test_customer_value_rejects_meaningless_terms(horizon: float, step: float, discount: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        customer_value(
            BG,
            GG,
            2,
            30.43,
            38.86,
            22.35,
            horizon_periods=horizon,
            periods_per_step=step,
            discount_rate_per_step=discount,
        )


def test_value_at_risk_is_the_value_times_the_chance_the_member_has_left() -> None:
    assert value_at_risk(200.0, 0.75) == pytest.approx(50.0)
    assert value_at_risk(200.0, 1.0) == 0.0
    np.testing.assert_allclose(value_at_risk([100.0, 100.0], [0.9, 0.2]), [10.0, 80.0])


def test_value_at_risk_rejects_a_probability_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="probability"):
        value_at_risk(100.0, 1.2)


def test_quarterly_steps_value_members_within_one_percent_of_monthly_steps() -> None:
    from services.scoring.domain.policy import PRIOR_BGNBD, PRIOR_SPEND
    from services.scoring.domain.rules import ValueRules
    from services.scoring.domain.value import customer_value

    quarterly = ValueRules()
    monthly = ValueRules(step_days=365.25 / 12)
    x, t_x, big_t, spend = (
        [0, 1, 4, 12],
        [0.0, 30.0, 200.0, 350.0],
        [10.0, 60.0, 260.0, 365.0],
        [80e2, 120e2, 60e2, 300e2],
    )

    def value(rules: ValueRules) -> list[float]:
        return list(
            customer_value(
                PRIOR_BGNBD,
                PRIOR_SPEND,
                x,
                t_x,
                big_t,
                spend,
                horizon_periods=rules.horizon_days,
                periods_per_step=rules.step_days,
                discount_rate_per_step=rules.discount_per_step,
            )
        )

    for coarse, fine in zip(value(quarterly), value(monthly), strict=True):
        assert abs(coarse - fine) / fine < 0.01
