"""When the demo counts the pipeline as at rest: only the services it has started are waited for."""

from __future__ import annotations

from tools.demo.watch import Progress

SERVICES = ("ingest", "scoring", "campaigns", "notifier")


def progress(lag: dict[str, int], running: frozenset[str] = frozenset(SERVICES)) -> Progress:
    zero = dict.fromkeys(SERVICES, 0)
    return Progress(done=dict(zero), lag={**zero, **lag}, outbox=dict(zero), due=dict(zero), running=running)


def test_a_pipeline_with_nothing_left_anywhere_is_at_rest() -> None:
    assert progress({}).at_rest


def test_input_waiting_for_a_running_service_is_not_rest() -> None:
    assert not progress({"scoring": 12}).at_rest


def test_during_the_backfill_only_ingest_is_waited_for() -> None:
    # Scoring is not started yet, so its growing lag is the backlog it will read, not work in flight.
    assert progress({"scoring": 5_000, "campaigns": 3_000}, running=frozenset({"ingest"})).at_rest
    assert not progress({"ingest": 7}, running=frozenset({"ingest"})).at_rest
