"""Campaign uplift: the difference in conversion against the holdout, with Newcombe's interval."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.campaigns.domain.uplift import Arm, Uplift, uplift, wilson


def interval(result: Uplift) -> tuple[float, float]:
    assert result.ci_low is not None
    assert result.ci_high is not None
    return result.ci_low, result.ci_high


def test_an_arms_rate_is_conversions_over_members() -> None:
    assert Arm(members=80, converted=48, revenue_minor=0).rate == pytest.approx(0.6)


def test_an_empty_arm_has_no_rate() -> None:
    assert Arm(members=0, converted=0, revenue_minor=0).rate is None


@pytest.mark.parametrize(("members", "converted"), [(-1, 0), (10, -1), (10, 11)])
def test_an_arm_with_impossible_counts_is_rejected(members: int, converted: int) -> None:
    with pytest.raises(ValueError, match="converted"):
        Arm(members=members, converted=converted, revenue_minor=0)


# -- Newcombe (1998), "Interval estimation for the difference between independent proportions",
# -- Statistics in Medicine 17:873–890, table II, method 10 ---------------------------------------


def test_the_worked_example_matches_newcombes_published_interval() -> None:
    result = uplift(Arm(70, 56, 0), Arm(80, 48, 0))
    assert result.absolute == pytest.approx(0.2)
    assert result.ci_low == pytest.approx(0.0524, abs=5e-5)
    assert result.ci_high == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(
    ("treated", "holdout", "low", "high"),
    [
        (Arm(10, 9, 0), Arm(10, 3, 0), 0.1705, 0.8090),
        (Arm(10, 0, 0), Arm(10, 0, 0), -0.2775, 0.2775),
        (Arm(10, 10, 0), Arm(10, 0, 0), 0.6075, 1.0000),
    ],
)
def test_newcombes_other_published_examples_are_reproduced(treated: Arm, holdout: Arm, low: float, high: float) -> None:
    result = uplift(treated, holdout)
    assert result.ci_low == pytest.approx(low, abs=5e-5)
    assert result.ci_high == pytest.approx(high, abs=5e-5)


def test_the_wilson_interval_with_no_successes_runs_from_zero_to_z_squared_over_n_plus_z_squared() -> None:
    z = 1.959964
    assert wilson(0, 10, z) == pytest.approx((0.0, z * z / (10 + z * z)))


def test_the_wilson_interval_is_symmetric_between_successes_and_failures() -> None:
    low, high = wilson(56, 70, 1.959964)
    assert wilson(14, 70, 1.959964) == pytest.approx((1 - high, 1 - low))
    assert low < 56 / 70 < high


def test_a_higher_confidence_gives_a_wider_interval() -> None:
    narrow = uplift(Arm(70, 56, 0), Arm(80, 48, 0), confidence=0.90)
    wide = uplift(Arm(70, 56, 0), Arm(80, 48, 0), confidence=0.99)
    (wide_low, wide_high), (narrow_low, narrow_high) = interval(wide), interval(narrow)
    assert wide_low < narrow_low < narrow_high < wide_high


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95.0])
def test_a_confidence_outside_zero_to_one_is_rejected(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        uplift(Arm(10, 1, 0), Arm(10, 1, 0), confidence=confidence)


# -- edge cases ------------------------------------------------------------------------------------


def test_no_conversions_on_either_side_is_no_uplift_with_an_honest_interval() -> None:
    result = uplift(Arm(500, 0, 0), Arm(50, 0, 0))
    assert result.absolute == 0.0
    low, high = interval(result)
    assert low < 0.0 < high
    assert result.incremental_revenue_minor == 0


def test_an_empty_holdout_gives_no_comparison() -> None:
    result = uplift(Arm(100, 10, 50_000), Arm(0, 0, 0))
    assert result == Uplift(
        treated_rate=0.1, holdout_rate=None, absolute=None, ci_low=None, ci_high=None, incremental_revenue_minor=None
    )


def test_an_empty_treated_arm_gives_no_comparison() -> None:
    result = uplift(Arm(0, 0, 0), Arm(100, 10, 50_000))
    assert (result.treated_rate, result.absolute, result.ci_low, result.incremental_revenue_minor) == (
        None,
        None,
        None,
        None,
    )
    assert result.holdout_rate == pytest.approx(0.1)


# -- revenue -------------------------------------------------------------------------------------


def test_incremental_revenue_scales_the_holdout_to_the_treated_arms_size() -> None:
    # The holdout's 1,000 members spent 50,000.00; scaled to 9,000 treated members that is 450,000.00.
    result = uplift(Arm(9_000, 900, 48_000_000), Arm(1_000, 80, 5_000_000))
    assert result.incremental_revenue_minor == 48_000_000 - 45_000_000


def test_incremental_revenue_is_rounded_to_a_whole_minor_unit() -> None:
    result = uplift(Arm(2, 1, 100), Arm(3, 1, 100))  # 100 − 100 × 2 / 3 = 33.33…
    assert result.incremental_revenue_minor == 33


def test_incremental_revenue_can_be_negative() -> None:
    assert uplift(Arm(100, 5, 1_000), Arm(100, 9, 3_000)).incremental_revenue_minor == -2_000


def test_large_revenues_stay_exact_to_the_minor_unit() -> None:
    # Beyond 2**53 a float can no longer hold every whole number.
    result = uplift(Arm(3, 1, 10**17 + 1), Arm(3, 1, 10**17))
    assert result.incremental_revenue_minor == 1


def test_the_report_is_a_plain_dictionary() -> None:
    assert uplift(Arm(70, 56, 100), Arm(80, 48, 80)).as_dict() == {
        "treated_rate": pytest.approx(0.8),
        "holdout_rate": pytest.approx(0.6),
        "absolute": pytest.approx(0.2),
        "ci_low": pytest.approx(0.0524, abs=5e-5),
        "ci_high": pytest.approx(0.3339, abs=5e-5),
        "incremental_revenue_minor": 30,
    }


# -- for any arms --------------------------------------------------------------------------------

arms = st.integers(1, 2_000).flatmap(
    lambda n: st.builds(Arm, members=st.just(n), converted=st.integers(0, n), revenue_minor=st.integers(0, 10**9))
)


@given(treated=arms, holdout=arms)
def test_the_interval_contains_the_point_estimate_and_stays_within_minus_one_to_one(treated: Arm, holdout: Arm) -> None:
    result = uplift(treated, holdout)
    low, high = interval(result)
    assert result.absolute is not None
    assert -1.0 <= low <= result.absolute <= high <= 1.0
