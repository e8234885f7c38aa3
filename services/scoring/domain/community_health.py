"""How a community is keeping its followers: its unfollow rate, put in bands an ops team can watch."""

from __future__ import annotations

# From healthy to alarming. Over-messaging drives unfollows (DOMAIN.md, Messaging), so a growing
# share of communities in the upper bands is an early sign that campaigns push too hard.
UNFOLLOW_BANDS = ("no_follows", "under_5pct", "5_to_10pct", "10_to_20pct", "20pct_and_over")


def unfollow_band(rate: float | None) -> str:
    """The band of an unfollow rate (unfollows / new follows); ``None`` when nobody followed yet."""
    if rate is None:
        return "no_follows"
    if rate < 0.05:
        return "under_5pct"
    if rate < 0.10:
        return "5_to_10pct"
    if rate < 0.20:
        return "10_to_20pct"
    return "20pct_and_over"
