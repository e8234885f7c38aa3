"""A consumer reading several partitions hands its records on in event-time order, whatever the fetch pace."""

from __future__ import annotations

import random as stdlib_random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.kafka.alignment import FAR_FUTURE, EventTimeAligner
from shared.kafka.progress import Mark

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# A record here is (partition, offset, hour or None).
Record = tuple[str, int, int | None]


def at(hour: int | None) -> datetime | None:
    return None if hour is None else T0 + timedelta(hours=hour)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def aligner(
    max_held: int = 2_000, idle_s: float = 5.0, clock: Clock | None = None, max_ready: int | None = None
) -> EventTimeAligner[str, Record]:
    return EventTimeAligner(
        lambda r: r[1],
        lambda r: at(r[2]),
        max_held=max_held,
        max_ready=max_ready,
        idle_s=idle_s,
        clock=clock or Clock(),
    )


def idle_aligner(clock: Clock) -> EventTimeAligner[str, Record]:
    """Waiting a second for partitions read to their end (Kafka Streams' max.task.idle.ms)."""
    return EventTimeAligner(lambda r: r[1], lambda r: at(r[2]), max_idle_s=1.0, clock=clock)


def records(partition: str, hours: list[int | None], first: int = 0) -> list[Record]:
    return [(partition, first + i, h) for i, h in enumerate(hours)]


def test_in_live_traffic_every_partition_is_caught_up_and_nothing_waits() -> None:
    step = aligner().step({"a": records("a", [5, 9]), "b": records("b", [1])}, behind=set())
    assert step.ready == [("b", 0, 1), ("a", 0, 5), ("a", 1, 9)]
    assert step.waiting_from == {}


def test_records_newer_than_what_a_behind_partition_has_shown_wait_for_it() -> None:
    align = aligner()
    # "a" is read hours ahead; "b" is behind and has shown hour 3 so far.
    step = align.step({"a": records("a", [1, 4, 8]), "b": records("b", [2, 3])}, behind={"a", "b"})
    assert step.ready == [("a", 0, 1), ("b", 0, 2)]
    assert step.waiting_from == {"a": 1, "b": 1}, "b's next record may be from hour 3 too: hour 3 waits"
    # "a" has been read to its end; "b" has shown hour 6 and has more.
    step = align.step({"b": records("b", [6], first=2)}, behind={"b"})
    assert step.ready == [("b", 1, 3), ("a", 1, 4)]
    assert step.waiting_from == {"a": 2, "b": 2}, "offsets are committed only up to the first waiting record"
    step = align.step({"b": records("b", [7], first=3)}, behind=set())
    assert step.ready == [("b", 2, 6), ("b", 3, 7), ("a", 2, 8)]
    assert step.waiting_from == {}


def test_a_partition_that_has_shown_nothing_yet_holds_everything_back() -> None:
    step = aligner().step({"a": records("a", [1, 2])}, behind={"a", "b"})
    assert step.ready == []
    assert step.waiting_from == {"a": 0}


def test_a_partition_with_too_many_records_waiting_is_paused_until_they_drain() -> None:
    align = aligner(max_held=3)
    step = align.step({"a": records("a", [1, 2, 3, 4])}, behind={"a", "b"})
    assert (step.ready, step.pause) == ([], ["a"])
    assert align.bound(behind={"a", "b"}) == datetime(1, 1, 1, tzinfo=UTC)
    step = align.step({"b": records("b", [2])}, behind={"a", "b"})
    assert (step.ready, step.resume) == ([("a", 0, 1)], []), "b may still have more of hour 2"
    step = align.step({"b": records("b", [5], first=1)}, behind={"a", "b"})
    assert step.ready == [("a", 1, 2), ("b", 0, 2), ("a", 2, 3), ("a", 3, 4)], "equal times: partition order"
    assert step.resume == ["a"]


def test_no_more_than_a_batch_goes_out_at_once_and_the_rest_follow_in_order() -> None:
    align = aligner(max_ready=2)
    step = align.step({"a": records("a", [1, 4]), "b": records("b", [2, 3])}, behind=set())
    assert step.ready == [("a", 0, 1), ("b", 0, 2)]
    assert step.waiting_from == {"a": 1, "b": 1}, "what did not go out is not committed"
    assert step.more_ready, "the consumer is told not to wait for new records before the next batch"
    step = align.step({}, behind=set())
    assert step.ready == [("b", 1, 3), ("a", 1, 4)]
    assert not step.more_ready
    assert align.waiting() == {}


def test_records_of_one_moment_go_out_in_one_batch_even_past_its_size() -> None:
    align = aligner(max_ready=2)
    step = align.step({"a": records("a", [1, 2, 5]), "b": records("b", [2, 3])}, behind=set())
    assert step.ready == [("a", 0, 1), ("a", 1, 2), ("b", 0, 2)]


def test_a_behind_partition_that_delivers_nothing_for_a_while_stops_holding_the_others() -> None:
    clock = Clock()
    align = aligner(idle_s=5.0, clock=clock)
    assert align.step({"a": records("a", [1, 2])}, behind={"a", "b"}).ready == []
    clock.now = 6.0
    assert [r[2] for r in align.step({}, behind={"a", "b"}).ready] == [1, 2]


def test_a_behind_partition_is_idle_only_for_time_spent_waiting_in_polls_not_applying_batches() -> None:
    wall, waited = Clock(), Clock()
    align: EventTimeAligner[str, Record] = EventTimeAligner(
        lambda r: r[1], lambda r: at(r[2]), idle_s=5.0, clock=wall, waited=waited
    )
    assert align.step({"a": records("a", [1, 2])}, behind={"a", "b"}).ready == []
    wall.now, waited.now = 60.0, 0.5  # a minute applying a backlog, half a second of it polling
    assert align.step({}, behind={"a", "b"}).ready == [], "b has not been seen to stall: a still waits for it"
    waited.now = 5.5
    assert [r[2] for r in align.step({}, behind={"a", "b"}).ready] == [1, 2]


def test_a_record_without_a_time_goes_with_the_record_before_it() -> None:
    step = aligner().step({"a": records("a", [1, None, 5]), "b": records("b", [3])}, behind={"a", "b"})
    assert step.ready == [("a", 0, 1), ("a", 1, None)]
    assert step.waiting_from == {"a": 2, "b": 0}


def test_a_partition_given_up_starts_afresh() -> None:
    align = aligner()
    align.step({"a": records("a", [1, 9]), "b": records("b", [2])}, behind={"a", "b"})
    assert align.waiting() == {"a": 1, "b": 0}
    align.forget(["a"])
    assert align.waiting() == {"b": 0}
    assert align.bound(behind={"a", "b"}) == datetime(1, 1, 1, tzinfo=UTC)
    assert align.bound(behind=set()) == FAR_FUTURE


partitions = st.dictionaries(
    st.sampled_from("abcd"), st.lists(st.integers(0, 100), min_size=1, max_size=12).map(sorted), min_size=1
)


@settings(max_examples=200)
@given(partitions, st.integers(1, 5), st.none() | st.integers(1, 5), st.randoms(use_true_random=False))
def test_however_the_fetches_come_every_record_is_handed_on_once_oldest_first(
    logs: dict[str, list[int]], max_held: int, max_ready: int | None, random: stdlib_random.Random
) -> None:
    """A simulated consumer: random fetch sizes per partition; paused partitions are not fetched."""
    align = aligner(max_held=max_held, idle_s=1e9, max_ready=max_ready)
    position = dict.fromkeys(logs, 0)
    paused: set[str] = set()
    handed: list[Record] = []
    for _ in range(1000):
        candidates = sorted(p for p in logs if position[p] < len(logs[p]) and p not in paused)
        if not candidates and not align.waiting():
            break
        polled: dict[str, list[Record]] = {}
        for p in candidates:
            # Some fetches bring nothing from a partition, but the first one always brings something.
            take = random.randint(0 if polled else 1, len(logs[p]) - position[p])
            if take:
                polled[p] = records(p, list(logs[p][position[p] : position[p] + take]), first=position[p])
                position[p] += take
        step = align.step(polled, behind={p for p in logs if position[p] < len(logs[p])})
        if max_ready is not None and len(step.ready) > max_ready:
            kept_whole = {r[2] for r in step.ready[max_ready - 1 :]}
            assert kept_whole == {step.ready[max_ready - 1][2]}, "past the size only to keep a moment whole"
        handed += step.ready
        paused = (paused | set(step.pause)) - set(step.resume)
    assert sorted(handed) == sorted(r for p, hours in logs.items() for r in records(p, list(hours)))
    assert [r[2] for r in handed] == sorted(r[2] for r in handed if r[2] is not None)


# Progress marks: a record (partition, offset, hour) whose partition name ends in "!" is a mark.
def marked_aligner(clock: Clock, mark_idle_s: float = 30.0) -> EventTimeAligner[str, Record]:
    return EventTimeAligner(
        lambda r: r[1],
        lambda r: None if r[0].endswith("!") else at(r[2]),
        mark_of=lambda r: Mark(T0 + timedelta(hours=r[2] or 0)) if r[0].endswith("!") else None,
        mark_idle_s=mark_idle_s,
        clock=clock,
    )


def mark(partition: str, offset: int, hour: int) -> Record:
    return (partition + "!", offset, hour)


def test_a_marked_partition_read_again_stays_marked_and_promises_nothing_until_its_next_mark() -> None:
    # A batch given back (the database went away): its partitions are read again from its first offset.
    align = marked_aligner(Clock())
    align.step({"chat": [("chat", 0, 1), mark("chat", 1, 1)], "buy": [mark("buy", 0, 1)]}, behind=set())
    align.step({"chat": [("chat", 2, 30), ("chat", 3, 3)], "buy": [("buy", 1, 5)]}, behind=set())
    align.rewind(["chat", "buy"])
    # Read again; two producers' records interleave in "chat", and no mark has come again yet.
    step = align.step({"chat": [("chat", 2, 30), ("chat", 3, 3)], "buy": [("buy", 1, 5)]}, behind=set())
    assert step.ready == [], "what the marks promised holds only once they are read again"
    assert align.complete_until(set()) is None
    step = align.step({"chat": [mark("chat", 4, 30)], "buy": [mark("buy", 2, 30)]}, behind=set())
    assert step.ready == [("chat", 3, 3), ("buy", 1, 5), ("chat", 2, 30)], "hour 3 takes its own place"


def test_a_partition_new_to_its_consumer_is_marked_like_the_rest_of_its_topic_from_its_first_record() -> None:
    # A rebalance gives this consumer "state/1" of a topic whose producer writes marks.
    align: EventTimeAligner[str, Record] = EventTimeAligner(
        lambda r: r[1],
        lambda r: None if r[0].endswith("!") else at(r[2]),
        mark_of=lambda r: Mark(T0 + timedelta(hours=r[2] or 0)) if r[0].endswith("!") else None,
        clock=Clock(),
        family=lambda partition: partition.split("/")[0],
    )
    align.step({"state/0": [("state/0", 0, 1), mark("state/0", 1, 1)]}, behind=set())
    step = align.step({"state/1": [("state/1", 0, 30), ("state/1", 1, 3)]}, behind=set())
    assert step.ready == [], "read from its committed offset: nothing is promised until its own next mark"
    step = align.step({"state/1": [mark("state/1", 2, 30)], "state/0": [mark("state/0", 2, 30)]}, behind=set())
    assert step.ready == [("state/1", 1, 3), ("state/1", 0, 30)], "hour 3 takes its own place"


def test_a_caught_up_partition_with_marks_holds_back_what_its_producer_has_not_marked_yet() -> None:
    align = marked_aligner(Clock())
    # "state" is read to its end; its producer has marked hour 2 complete; a purchase at hour 4 arrives.
    step = align.step({"state": [("state", 0, 1), mark("state", 1, 2)], "buy": records("buy", [4])}, behind=set())
    assert step.ready == [("state", 0, 1)], "hour 4 waits: state changes up to hour 4 may still be on their way"
    assert step.waiting_from == {"buy": 0}
    step = align.step({"state": [("state", 2, 4), mark("state", 3, 4)]}, behind=set())
    assert step.ready == [("buy", 0, 4), ("state", 2, 4)], "once hour 4 is marked, its moment goes out whole"
    assert step.waiting_from == {}


def test_marks_are_never_handed_on() -> None:
    align = marked_aligner(Clock())
    step = align.step({"state": [mark("state", 0, 1), mark("state", 1, 3)], "buy": records("buy", [2])}, behind=set())
    assert step.ready == [("buy", 0, 2)]


def test_a_partition_that_never_marked_does_not_hold_anything_back_once_read_to_its_end() -> None:
    align = marked_aligner(Clock())
    step = align.step({"state": records("state", [1]), "buy": records("buy", [4])}, behind=set())
    assert step.ready == [("state", 0, 1), ("buy", 0, 4)]


def test_a_producer_that_stops_marking_stops_holding_back_after_the_idle_time() -> None:
    clock = Clock()
    align = marked_aligner(clock, mark_idle_s=30.0)
    step = align.step({"state": [mark("state", 0, 1)], "buy": records("buy", [4])}, behind=set())
    assert step.ready == []
    clock.now = 31.0
    step = align.step({}, behind=set())
    assert step.ready == [("buy", 0, 4)]


def test_with_max_idle_a_partition_read_to_its_end_holds_newer_records_back_for_that_long() -> None:
    clock = Clock()
    align = idle_aligner(clock)
    # Both read to their end; "b" last showed hour 2, so its producer may still be writing hour 3.
    step = align.step({"a": records("a", [1, 5]), "b": records("b", [2])}, behind=set())
    assert step.ready == [("a", 0, 1)]
    step = align.step({"b": records("b", [3], first=1)}, behind=set())
    assert step.ready == [("b", 0, 2)], "b has shown hour 3: what is older goes; a's hour 5 still waits for b"
    clock.now = 1.5
    step = align.step({}, behind=set())
    assert step.ready == [("b", 1, 3), ("a", 1, 5)], "b silent for max_idle: it holds nothing back any more"


def test_after_a_quiet_spell_the_first_burst_waits_max_idle_for_every_partition_read_before() -> None:
    clock = Clock()
    align = idle_aligner(clock)
    align.step({"chat": records("chat", [1]), "buy": records("buy", [1])}, behind=set())
    clock.now = 1.5
    align.step({}, behind=set())
    clock.now = 5.0  # an upstream that publishes in bursts: every partition quiet for seconds
    step = align.step({"chat": records("chat", [26], first=1)}, behind=set())
    assert step.ready == [], "buy's producer may be writing hour 2 in the same burst"
    assert (align.complete_until(set()) or FAR_FUTURE) < T0 + timedelta(hours=2), "nor may it be promised yet"
    clock.now = 5.01
    step = align.step({"buy": records("buy", [2], first=1)}, behind=set())
    assert step.ready == [], "buy has shown hour 2 and may still be writing it"
    clock.now = 6.1
    step = align.step({}, behind=set())
    assert step.ready == [("buy", 1, 2), ("chat", 1, 26)], "the older receipt first, as its producer wrote them"


def test_a_partition_read_with_nothing_in_it_yet_holds_the_first_burst_back_for_max_idle() -> None:
    clock = Clock()
    align = idle_aligner(clock)
    step = align.step({"buy": records("buy", [10, 11]), "chat": []}, behind=set())
    assert step.ready == [], "chat's producer may be writing hour 9 in the same burst"
    assert align.complete_until(set()) is None
    clock.now = 0.02
    step = align.step({"chat": records("chat", [9, 12])}, behind=set())
    assert step.ready == [("chat", 0, 9), ("buy", 0, 10)], "the latest hour of each waits for its next record"
    clock.now = 2.0
    step = align.step({}, behind=set())
    assert step.ready == [("buy", 1, 11), ("chat", 1, 12)]


def test_in_steady_traffic_a_partition_that_stays_quiet_holds_nothing_back_after_max_idle() -> None:
    clock = Clock()
    align = idle_aligner(clock)
    align.step({"chat": records("chat", [1]), "buy": records("buy", [1])}, behind=set())
    for tick in range(1, 30):
        clock.now = tick * 0.1
        step = align.step({"chat": records("chat", [1 + tick], first=tick)}, behind=set())
        if tick > 10:
            # Each chat waits only for the next one (its partition may still be writing that hour).
            assert step.ready == [("chat", tick - 1, tick)], f"at {clock.now:.1f} s nothing waits for buy"


def test_a_record_held_behind_a_newer_one_keeps_what_may_be_promised_below_its_own_time() -> None:
    # Before its first mark a partition is taken to be in event-time order, so a record older than
    # the one before it waits with that one. A new owner after a rebalance reads ingest's output
    # that way: two ingest replicas interleave in it.
    align = aligner()
    step = align.step({"a": records("a", [15, 4]), "b": records("b", [14])}, behind={"b"})
    assert step.ready == []
    assert align.complete_until({"b"}) == T0 + timedelta(hours=4) - timedelta(microseconds=1), (
        "hour 4 is not applied yet: the sweeper must not review past it"
    )


def test_once_handed_on_a_record_held_behind_a_newer_one_no_longer_holds_the_promise_back() -> None:
    align = aligner()
    step = align.step({"a": records("a", [10, 4, 20]), "b": records("b", [15])}, behind={"b"})
    assert step.ready == [("a", 0, 10), ("a", 1, 4)], "hour 4 goes with hour 10; b is behind"
    assert align.complete_until({"b"}) == T0 + timedelta(hours=15) - timedelta(microseconds=1), (
        "hour 4 is applied: only b's hour 15, still waiting, bounds the promise"
    )


def test_without_max_idle_nothing_read_to_its_end_waits() -> None:
    step = aligner().step({"a": records("a", [1, 5]), "b": records("b", [2])}, behind=set())
    assert step.ready == [("a", 0, 1), ("b", 0, 2), ("a", 1, 5)]


def test_a_record_after_the_last_mark_that_is_older_than_it_goes_at_its_own_time() -> None:
    align = marked_aligner(Clock())
    # The producer marked hour 5, then published a change from hour 3 (a late one: it broke its promise).
    step = align.step({"state": [mark("state", 0, 5), ("state", 1, 3)], "buy": records("buy", [5, 6])}, behind=set())
    assert step.ready == [("state", 1, 3), ("buy", 0, 5)], "hour 3 before hour 5; hour 6 is not marked yet"
    assert step.waiting_from == {"buy": 1}


def test_between_marks_an_older_record_written_after_newer_ones_goes_out_at_its_own_time() -> None:
    align = marked_aligner(Clock())
    # Scoring's batch wrote hours 4 and 6, its sweeper then a review from hour 3; all of it is
    # promised by the mark of hour 6. A purchase of hour 5 sits between them in event time.
    step = align.step({"state": [mark("state", 0, 2)], "buy": records("buy", [5])}, behind=set())
    assert step.ready == []
    step = align.step({"state": [("state", 1, 4), ("state", 2, 6), ("state", 3, 3)]}, behind=set())
    assert step.ready == [], "nothing past hour 2 is promised yet"
    assert step.waiting_from == {"state": 1, "buy": 0}, "the lowest offset waiting, not the oldest event"
    step = align.step({"state": [mark("state", 4, 6)]}, behind=set())
    assert step.ready == [("state", 3, 3), ("state", 1, 4), ("buy", 0, 5), ("state", 2, 6)]
    assert step.waiting_from == {}


def test_an_unmarked_partition_keeps_its_records_in_the_order_it_has_them() -> None:
    step = aligner().step({"a": records("a", [4, 3]), "b": records("b", [2])}, behind=set())
    assert step.ready == [("b", 0, 2), ("a", 0, 4), ("a", 1, 3)], "without marks, hour 3 goes with hour 4 before it"


# Marks of a producer with several replicas: each speaks for the input partitions ("origins") it owns.
OriginRecord = tuple[str, int, int, tuple[str, ...]]  # (partition, offset, hour, origins: a mark when not empty)
EVERY_ORIGIN = frozenset({"raw/0", "raw/1"})


def origin_aligner(
    clock: Clock, mark_idle_s: float = 30.0, first_mark_wait_s: float | None = None
) -> EventTimeAligner[str, OriginRecord]:
    """With ``first_mark_wait_s``: a consumer just started, that knows its topic's producers mark."""
    return EventTimeAligner(
        lambda r: r[1],
        lambda r: None if r[3] else at(r[2]),
        mark_of=lambda r: Mark(T0 + timedelta(hours=r[2]), r[3], EVERY_ORIGIN) if r[3] else None,
        mark_idle_s=mark_idle_s,
        clock=clock,
        awaits_marks=lambda partition: first_mark_wait_s is not None,
        first_mark_wait_s=first_mark_wait_s,
    )


def test_one_replicas_mark_does_not_let_records_past_what_another_replica_has_not_published() -> None:
    align = origin_aligner(Clock())
    # Replica A (raw/0) has published everything up to hour 5; replica B (raw/1) only up to hour 2.
    polled = {"m": [("m", 0, 1, ()), ("m", 1, 5, ("raw/0",)), ("m", 2, 2, ("raw/1",)), ("m", 3, 4, ())]}
    step = align.step(polled, behind=set())
    assert [r[2] for r in step.ready] == [1], "hour 4 waits: B may still publish hour 3"
    step = align.step({"m": [("m", 4, 3, ()), ("m", 5, 6, ("raw/1",))]}, behind=set())
    assert [r[2] for r in step.ready] == [3, 4], "B's late hour 3 goes before A's hour 4, once B marked past it"


def test_an_origin_nobody_has_marked_yet_holds_the_partition_back_until_the_idle_time() -> None:
    clock = Clock()
    align = origin_aligner(clock, mark_idle_s=30.0)
    step = align.step({"m": [("m", 0, 5, ("raw/0",)), ("m", 1, 4, ())]}, behind=set())
    assert step.ready == [], "raw/1's replica has not said how far it got"
    clock.now = 31.0
    step = align.step({}, behind=set())
    assert [r[2] for r in step.ready] == [4], "a replica silent that long (dead, not yet replaced) stops holding back"


def test_a_dead_replicas_origins_are_taken_over_by_whoever_marks_them_next() -> None:
    clock = Clock()
    align = origin_aligner(clock, mark_idle_s=30.0)
    align.step({"m": [("m", 0, 3, ("raw/0",)), ("m", 1, 3, ("raw/1",))]}, behind=set())
    clock.now = 10.0
    # A died at hour 3; B keeps marking raw/1 and publishing: hour 6 must wait for raw/0.
    step = align.step({"m": [("m", 2, 6, ()), ("m", 3, 7, ("raw/1",))]}, behind=set())
    assert step.ready == []
    clock.now = 20.0
    # B took raw/0 over, published its backlog (hour 5) and marks both.
    step = align.step({"m": [("m", 4, 5, ()), ("m", 5, 7, ("raw/0", "raw/1"))]}, behind=set())
    assert [r[2] for r in step.ready] == [5, 6]


def test_what_a_consumer_may_promise_is_what_it_has_handed_on_and_nothing_older_can_follow() -> None:
    align = aligner()
    assert align.complete_until(behind=set()) is None, "nothing read, nothing promised"
    step = align.step({"a": records("a", [1, 5]), "b": records("b", [2])}, behind={"b"})
    assert [r[2] for r in step.ready] == [1], "b is behind at hour 2: its next record may be that old"
    assert align.complete_until(behind={"b"}) == T0 + timedelta(hours=2, microseconds=-1)
    step = align.step({"b": records("b", [6], first=1)}, behind=set())
    assert [r[2] for r in step.ready] == [2, 5, 6]
    assert align.complete_until(behind=set()) == at(6), "all read to the end: everything up to the newest read"


def test_a_mark_read_long_after_it_was_written_does_not_hold_anything_back() -> None:
    clock = Clock()
    clock.now = 1_000.0
    align: EventTimeAligner[str, OriginRecord] = EventTimeAligner(
        lambda r: r[1],
        lambda r: None if r[3] else at(r[2]),
        # Written 40 s before it is read: a restarted consumer re-reading the tail after ingest stopped.
        mark_of=lambda r: Mark(T0 + timedelta(hours=r[2]), r[3], EVERY_ORIGIN, written_at=960.0) if r[3] else None,
        mark_idle_s=30.0,
        clock=clock,
        wall=clock,
    )
    step = align.step({"m": [("m", 0, 2, ("raw/0",)), ("m", 1, 4, ())]}, behind=set())
    assert [r[2] for r in step.ready] == [4], "nobody has marked for 40 s: nothing is promised any more"


def test_a_consumer_just_started_waits_for_a_marked_topics_marks_before_it_hands_anything_on() -> None:
    align = origin_aligner(Clock(), first_mark_wait_s=30.0)
    # Read from the committed offset: replica A's hour 9 lies before replica B's hour 7 in the partition.
    step = align.step({"m": [("m", 0, 9, ()), ("m", 1, 7, ())]}, behind=set())
    assert step.ready == [], "either replica may still publish something older"
    assert align.complete_until(set()) is None
    step = align.step({"m": [("m", 2, 11, ("raw/0",)), ("m", 3, 11, ("raw/1",))]}, behind=set())
    assert [r[2] for r in step.ready] == [7, 9], "hour 7 takes its own place, before A's hour 9"


def test_a_partition_no_mark_comes_to_is_read_as_unmarked_after_the_wait() -> None:
    clock = Clock()
    align = origin_aligner(clock, first_mark_wait_s=30.0)
    assert align.step({"m": [("m", 0, 9, ()), ("m", 1, 7, ())]}, behind=set()).ready == []
    clock.now = 31.0
    step = align.step({}, behind=set())
    assert [r[2] for r in step.ready] == [7, 9], "published by hand: nobody is going to mark it"
    step = align.step({"m": [("m", 2, 8, ())]}, behind=set())
    assert [r[2] for r in step.ready] == [8], "from then on, nothing waits for marks"


def test_records_held_before_a_partitions_first_mark_take_their_own_place_once_it_comes() -> None:
    align = origin_aligner(Clock())
    # Behind, unmarked so far: B's hour 7 after A's hour 9 waits with it, at hour 9.
    step = align.step({"m": [("m", 0, 9, ()), ("m", 1, 7, ())]}, behind={"m"})
    assert step.ready == []
    # The first mark; then B's hour 8, which must not overtake B's own hour 7.
    polled = {"m": [("m", 2, 11, ("raw/0",)), ("m", 3, 8, ()), ("m", 4, 11, ("raw/1",))]}
    step = align.step(polled, behind=set())
    assert [r[2] for r in step.ready] == [7, 8, 9]
    assert step.waiting_from == {}


def test_a_consumer_just_started_waits_for_the_marks_of_a_partition_that_has_delivered_nothing_yet() -> None:
    # A member's chat partition is fetched after their purchase partition: its older chat must not
    # be overtaken, nor may the consumer promise anything past it.
    align = origin_aligner(Clock(), first_mark_wait_s=30.0)
    polled = {"buy": [("buy", 0, 9, ()), ("buy", 1, 11, ("raw/0",)), ("buy", 2, 11, ("raw/1",))], "chat": []}
    step = align.step(polled, behind=set())
    assert step.ready == [], "the chat partition's marks are not known yet"
    assert align.complete_until(set()) is None
    step = align.step({"chat": [("chat", 0, 7, ()), ("chat", 1, 11, ("raw/0",)), ("chat", 2, 11, ("raw/1",))]}, set())
    assert [(r[0], r[2]) for r in step.ready] == [("chat", 7), ("buy", 9)]


def test_a_partition_whose_wait_for_marks_runs_out_between_steps_bounds_as_unmarked_at_once() -> None:
    clock = Clock()
    align = origin_aligner(clock, first_mark_wait_s=0.5)
    align.step({"a": [("a", 0, 5, ())], "b": []}, behind={"b"})
    clock.now = 1.0  # no step since: "b" is still behind, with nothing read from it
    assert align.complete_until(behind={"b"}) is None, "b may still deliver anything"
