"""A member state rebuilt from stored values is the state that was stored, and nothing less."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from services.scoring.domain.member import evolve, new_member, restore
from shared.contracts import Lifecycle

AT = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_state_restored_from_all_its_values_equals_it() -> None:
    state = evolve(new_member("m1", AT), lifecycle=Lifecycle.ACTIVE, reasons=("repeat_purchase",), sales=2)
    assert restore(asdict(state)) == state


def test_restoring_without_every_field_fails_naming_the_field() -> None:
    values = asdict(new_member("m1", AT))
    del values["clock"]
    with pytest.raises(TypeError, match="clock"):
        restore(values)


def test_restoring_an_unknown_field_fails_naming_it() -> None:
    values = {**asdict(new_member("m1", AT)), "colour": "blue"}
    with pytest.raises(TypeError, match="colour"):
        restore(values)
