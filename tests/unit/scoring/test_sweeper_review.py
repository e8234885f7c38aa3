"""The sweeper reviews due members one by one: a review that fails parks that member, not the batch."""

from __future__ import annotations

import pytest

from services.scoring.domain.events import apply_event
from services.scoring.domain.policy import Policy
from services.scoring.service_layer import sweeper
from tests.unit.scoring.events import day, purchase

POLICY = Policy()


def test_a_failing_review_parks_the_member_until_its_next_event(monkeypatch: pytest.MonkeyPatch) -> None:
    state, _ = apply_event(None, purchase(0), POLICY)
    assert state.next_review_at is not None

    def broken(*_: object) -> object:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(sweeper, "advance", broken)
    parked, transitions = sweeper._review(state, day(90), POLICY)
    assert parked.next_review_at is None, "never claimed again, so the batch around it goes on"
    assert transitions == []
    assert parked.lifecycle is state.lifecycle


def test_a_sound_review_is_the_domain_s_own() -> None:
    state, _ = apply_event(None, purchase(0), POLICY)
    reviewed, transitions = sweeper._review(state, day(31), POLICY)
    assert reviewed.lifecycle.value == "active"
    assert [t.after.reasons for t in transitions] == [("settled_in",)]
