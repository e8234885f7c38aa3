"""Communities are grouped by how fast they lose followers, in bands with fixed edges."""

import pytest

from services.scoring.domain.community_health import UNFOLLOW_BANDS, unfollow_band


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (None, "no_follows"),
        (0.0, "under_5pct"),
        (0.0499, "under_5pct"),
        (0.05, "5_to_10pct"),
        (0.10, "10_to_20pct"),
        (0.1999, "10_to_20pct"),
        (0.20, "20pct_and_over"),
        (3.0, "20pct_and_over"),
    ],
)
def test_a_rate_falls_in_the_band_whose_lower_edge_it_reaches(rate, band):
    assert unfollow_band(rate) == band


def test_every_band_a_rate_can_fall_in_is_listed():
    assert {unfollow_band(r) for r in (None, 0.0, 0.07, 0.15, 0.5)} == set(UNFOLLOW_BANDS)
