"""How the demo scores scoring against the ground truth the generator planted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.demo.figures.truth import churn_recovery, habit_recovery

END = datetime(2026, 11, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return END - timedelta(days=365 - n)


def test_a_warning_near_the_planted_churn_counts_for_precision_and_recall() -> None:
    churned = {"m1": day(100), "m2": day(100), "m3": None, "m4": day(340)}
    warnings = {
        "m1": [day(110)],  # anticipates: 10 days after the last purchase
        "m2": [day(10)],  # far too early: a false alarm, and m2's churn is missed
        "m3": [day(200)],  # never churned: a false alarm
        "m4": [day(345)],  # churned too late to count as observable, but the warning is right
    }
    found = churn_recovery(churned, warnings, END)
    assert found["true_churners"] == 2, "m1 and m2: churned at least 120 days before the end"
    assert found["warned"] == 4
    assert found["warned_and_churned"] == 2, "m1 and m4"
    assert found["precision"] == 0.5
    assert found["recall"] == 0.5
    assert found["median_lead_days"] == -7.5, "after the churn date: negative lead"


def test_nobody_warned_or_churned_gives_no_rates() -> None:
    found = churn_recovery({"m1": None}, {}, END)
    assert (found["precision"], found["recall"], found["median_lead_days"]) == (None, None, None)


def test_habits_are_cross_tabulated_against_the_final_tiers() -> None:
    habits = {"m1": "active", "m2": "active", "m3": "lurker", "m4": "silent"}
    tiers = {"m1": "active", "m2": "participant", "m3": "lurker"}  # m4 never reached scoring
    assert habit_recovery(habits, tiers) == {
        "active": {"active": 1, "participant": 1},
        "lurker": {"lurker": 1},
    }
