"""Holdout groups: stable, the requested size, and independent between campaigns."""

from __future__ import annotations

import hashlib

import pytest

from services.campaigns.domain.holdout import bucket, in_global_holdout, in_holdout

MEMBERS = [f"member-{n:05d}" for n in range(20_000)]


def test_a_member_lands_in_the_same_bucket_every_time() -> None:
    assert bucket("m-42", "campaign:win-back") == bucket("m-42", "campaign:win-back")
    assert [in_holdout(m, "win-back", 10) for m in MEMBERS[:500]] == [
        in_holdout(m, "win-back", 10) for m in MEMBERS[:500]
    ]


def test_buckets_lie_in_zero_to_a_hundred() -> None:
    values = [bucket(m, "global") for m in MEMBERS]
    assert all(0.0 <= v < 100.0 for v in values)


def test_the_bucket_is_the_first_eight_bytes_of_sha256_scaled_to_a_hundred() -> None:
    # Pinned so that a report computed elsewhere (SQL, a notebook) can reproduce the assignment.
    digest = hashlib.sha256(b"global\x1fm-42").digest()
    assert bucket("m-42", "global") == int.from_bytes(digest[:8], "big") / 2**64 * 100


def test_salt_and_member_cannot_be_shifted_into_each_other() -> None:
    assert bucket("bc", "a") != bucket("c", "ab")


def test_a_zero_percent_holdout_holds_out_nobody() -> None:
    assert not any(in_holdout(m, "win-back", 0) for m in MEMBERS)
    assert not any(in_global_holdout(m, 0) for m in MEMBERS)


def test_a_hundred_percent_holdout_holds_out_everybody() -> None:
    assert all(in_holdout(m, "win-back", 100) for m in MEMBERS)
    assert all(in_global_holdout(m, 100) for m in MEMBERS)


@pytest.mark.parametrize("pct", [5.0, 10.0, 50.0])
def test_about_pct_percent_of_members_are_held_out(pct: float) -> None:
    held = sum(in_holdout(m, "win-back", pct) for m in MEMBERS)
    assert held / len(MEMBERS) * 100 == pytest.approx(pct, abs=1.0)


def test_about_pct_percent_of_members_are_in_the_global_holdout() -> None:
    held = sum(in_global_holdout(m, 10) for m in MEMBERS)
    assert held / len(MEMBERS) * 100 == pytest.approx(10, abs=1.0)


def test_different_campaigns_hold_out_independent_groups() -> None:
    first = {m for m in MEMBERS if in_holdout(m, "win-back", 50)}
    second = {m for m in MEMBERS if in_holdout(m, "cross-sell", 50)}
    # Independent halves overlap in a quarter of members; the same salt would overlap in half.
    assert len(first & second) / len(MEMBERS) == pytest.approx(0.25, abs=0.015)


def test_the_global_holdout_is_independent_of_campaign_holdouts() -> None:
    campaign = {m for m in MEMBERS if in_holdout(m, "global", 50)}
    everything = {m for m in MEMBERS if in_global_holdout(m, 50)}
    # A campaign that happens to be called "global" still gets its own salt.
    assert len(campaign & everything) / len(MEMBERS) == pytest.approx(0.25, abs=0.015)


def test_a_larger_holdout_contains_the_smaller_one() -> None:
    # Growing a holdout from 5 % to 10 % only adds members; nobody already held out is released.
    small = {m for m in MEMBERS if in_holdout(m, "win-back", 5)}
    large = {m for m in MEMBERS if in_holdout(m, "win-back", 10)}
    assert small <= large
