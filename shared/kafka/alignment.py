"""Reading several partitions in event-time order, for a consumer whose output order matters.

Each partition is in event-time order on its own, but a consumer reads its partitions at
whatever pace the fetches come back. In a backlog (a backfill, a restart after downtime) one
partition can be read months ahead of another, and whatever the consumer publishes comes out in
that order. Ingest is such a consumer: every raw partition feeds every member partition, so a
member's events would reach scoring out of order, differently in every run.

The rule (Kafka Streams picks records the same way): a record may be applied once no partition
still behind can deliver an older one. A behind partition can deliver nothing older than the
latest event time read from it, so the bound is the least of those. Records past the bound wait
in memory, and their offsets are not committed, so a crash loses none of them. About
``max_ready`` go out in one step, the oldest, never splitting one moment; the rest go in the next. A partition with
``max_held`` records waiting is paused until they drain, which bounds the memory. A partition
that has read everything published to it does not bound: in live traffic nothing waits. A behind
partition that delivers nothing for ``idle_s`` stops bounding too, so a stuck partition cannot
stop the others. That time is counted on ``waited``, the consumer's time spent waiting in polls,
not the wall clock: a consumer busy applying a backlog for seconds has not seen a partition stall,
and letting the others run ahead then put records out of order differently in every run.

A partition whose producer writes progress marks (see progress.py) is different: read to the
end, it may still get records its producer has not written yet. Once it has delivered a mark it
bounds by its latest mark's ``until``, whatever it delivered after it, until it delivers nothing
for ``mark_idle_s`` (a stopped producer must not stop this consumer for good). A record after a
mark waits as if it were no older than the mark. Marks are taken in here and never handed on.
Such a partition need not be in event-time order between its marks (scoring's sweeper publishes
a review after changes newer than it), so once marked, a record older than one before it takes
its own place in time instead of waiting behind the newer ones. Before its first mark such a
record waits with the newer one, but what may be promised (``complete_until``) stays below its own
time until it is handed on; once the first mark comes, the records still waiting take their own
places too, or one marked later and older would overtake them.

A consumer just started knows no partition's marks yet. So a partition of a topic whose producers
write marks (``awaits_marks``), from the first poll that names it (records or none: an owned
partition that has delivered nothing yet may still hold the oldest record), waits for its first
mark, holding the others back as an origin not heard from does, for up to ``first_mark_wait_s``:
taken as unmarked meanwhile, it would hand on a replica's record before an older one of another
replica behind it in the partition, or let the others run past it. A partition given no mark by
then is read as unmarked (its records were published by hand, or its producers are all down).

A partition fed by several processes of one producer (ingest's replicas) gets marks that name
their origins (progress.py). It bounds by the least latest mark over every origin there is, so
what one replica promised never lets the consumer past what another has not published yet. An
origin whose marks stop for ``mark_idle_s`` (its replica died, and nobody has taken over its
input yet) stops bounding then, like a silent producer above; until then it holds the partition
back, which is the point: the dead replica's records come later, from its successor.

With ``max_idle_s`` (Kafka Streams' ``max.task.idle.ms``), a partition read to its end bounds too,
for that long after its last delivery: a record read from one partition then waits a moment for
older ones its producer is still writing to another. In live traffic that costs up to that much
latency; a replay at a thousand times real speed needs it, or a few milliseconds between two
partitions become hours of event time. After a quiet spell (no partition delivered anything for
``max_idle_s``) every partition read before (``polled`` names the ones with nothing in them yet)
bounds again, for that long after the first delivery that ends the spell: an upstream that
publishes in bursts starts each burst with every partition long quiet, and the first one fetched
would otherwise run hours ahead of the others' records, written in the same burst a few
milliseconds later. In steady traffic no spell starts, so a
partition that stays quiet holds nothing back.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from shared.kafka.progress import Mark

K = TypeVar("K")  # a partition, as the consumer names it
R = TypeVar("R")  # a record

FAR_PAST = datetime(1, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two event times, either of which may be unknown."""
    return b if a is None else a if b is None else max(a, b)


def completeness(
    owned: Iterable[K], read: Mapping[K, datetime | None], complete: datetime | None
) -> dict[K, datetime | None]:
    """Per partition owned or read: the event time it is known complete to, for a group-wide clock.

    ``complete``: how far the consumer knows its input is complete (``complete_until``, with
    progress marks as far as every upstream replica has published). Every partition it owns is
    complete that far and no further; one it read further than that, as far as it read. None while
    neither is known (just after a rebalance): recorded so, such a partition holds a group's clock
    back instead of dropping out of it. A partition read to its end only looks finished: its owner
    may be paused while the others run on, so none counts as done for that alone.
    """
    return {key: latest(read.get(key), complete) for key in {*owned, *read}}


@dataclass
class Step(Generic[K, R]):
    ready: list[R]  # records that may be applied now, every partition's, oldest event first
    # Per partition with records waiting: the offset of the first, which is as far as may be committed.
    waiting_from: dict[K, int] = field(default_factory=dict)
    pause: list[K] = field(default_factory=list)
    resume: list[K] = field(default_factory=list)
    more_ready: bool = False  # the batch stopped at its size: more may be applied at once


class EventTimeAligner(Generic[K, R]):
    def __init__(
        self,
        offset_of: Callable[[R], int],
        time_of: Callable[[R], datetime | None],
        *,
        max_held: int = 1_000,
        max_ready: int | None = None,
        idle_s: float = 5.0,
        mark_of: Callable[[R], Mark | None] | None = None,
        mark_idle_s: float = 30.0,
        max_idle_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        waited: Callable[[], float] | None = None,
        wall: Callable[[], float] = time.time,
        family: Callable[[K], Hashable] | None = None,
        awaits_marks: Callable[[K], bool] | None = None,
        first_mark_wait_s: float | None = None,
    ) -> None:
        self._offset_of = offset_of
        self._time_of = time_of
        # A record's mark when it is a progress mark, else None.
        self._mark_of = mark_of or (lambda _record: None)
        self._mark_idle_s = mark_idle_s
        self._max_idle_s = max_idle_s
        self._marked: dict[K, _Marks] = {}
        # Partitions of one family (a topic) share their producers: once one has delivered a mark,
        # every partition of the family starts out marked (``_start_marked``), its latest marks here.
        self._family = family
        self._family_marks: dict[Hashable, _Marks] = {}
        # Partitions whose producers write marks (``awaits_marks``): one new to this consumer, with no
        # marks of its family seen yet (just started), holds back like an origin not heard from, for
        # ``first_mark_wait_s``; with none by then, it is taken as unmarked (``_unmarked``).
        self._awaits_marks = awaits_marks or (lambda _partition: False)
        self._first_mark_wait_s = mark_idle_s if first_mark_wait_s is None else first_mark_wait_s
        self._unmarked: set[K] = set()
        self._max_held = max_held
        self._max_ready = max_ready
        self._idle_s = idle_s
        self._clock = clock
        self._wall = wall  # to tell how long ago a mark was written
        self._waited = waited or clock
        self._last_delivery_waited: dict[K, float] = {}
        self._read_until: dict[K, datetime] = {}
        self._last_delivery: dict[K, float] = {}
        # Clock of the latest delivery from any partition, and of the one that ended the last quiet spell.
        self._last_any_delivery: float | None = None
        self._spell_start = float("-inf")
        self._held: dict[K, deque[tuple[datetime, R]]] = {}
        # Partitions holding records out of offset order (taken in at their own, older time).
        self._unsorted: set[K] = set()
        # Per partition, (own time, offset) of each held record older than one before it, taken in
        # at that one's time (before any mark, a partition is taken to be in order): what may be
        # promised is older. A heap, oldest first; released records leave it lazily, when on top.
        self._overtaken: dict[K, list[tuple[datetime, int]]] = {}
        self._paused: set[K] = set()

    def step(self, polled: Mapping[K, Sequence[R]], behind: Iterable[K]) -> Step[K, R]:
        """Take in a poll's records; ``behind``: the partitions with more published than fetched.

        ``polled`` may name partitions read with no records: they are known to exist before
        they first deliver, so at a quiet spell's end they hold the others back too."""
        now = self._clock()
        waited = self._waited()
        if any(polled.values()):
            quiet = self._last_any_delivery is None or now - self._last_any_delivery >= self._max_idle_s
            if quiet:
                self._spell_start = now
            self._last_any_delivery = now
        self._give_up_waiting_for_marks(now)
        for partition, records in polled.items():
            if partition not in self._marked and (template := self._template(partition)) is not None:
                self._start_marked(partition, template, now)
            elif partition not in self._marked and partition not in self._unmarked:
                # Also one that has delivered nothing yet: what it will deliver is not known either.
                if self._first_mark_wait_s > 0 and self._awaits_marks(partition):
                    self._marked[partition] = _Marks(since=now, awaiting=True)
                else:
                    self._unmarked.add(partition)
            if not records:
                # Read, with nothing in it yet: it bounds at a spell's start like the others.
                self._read_until.setdefault(partition, FAR_PAST)
                continue
            self._last_delivery[partition] = now
            self._last_delivery_waited[partition] = waited
            latest = self._read_until.get(partition, FAR_PAST)
            held = self._held.setdefault(partition, deque())
            for record in records:
                mark = self._mark_of(record)
                if mark is not None:
                    # A mark read long after it was written (a restart re-reading the topic's tail)
                    # shows its origin alive back then, not now.
                    age = 0.0 if mark.written_at is None else max(0.0, self._wall() - mark.written_at)
                    marks = self._marked.get(partition)
                    if marks is None or marks.awaiting:
                        marks = self._first_marked(partition, since=now - age)
                    marks.take(mark, now - age)
                    if self._family is not None:
                        self._family_marks[self._family(partition)] = marks
                    latest = max(latest, mark.until)
                    continue
                # A record without a time (bad input) goes with the record before it.
                own = self._time_of(record) or latest
                if own < latest and partition in self._marked:
                    _insert_in_time_order(held, own, record)
                    self._unsorted.add(partition)
                    continue
                if own < latest:
                    heapq.heappush(self._overtaken.setdefault(partition, []), (own, self._offset_of(record)))
                latest = max(latest, own)
                held.append((latest, record))
            self._read_until[partition] = latest
        bound = self.bound(behind)
        # Merge the partitions' heads, oldest first; equal times go partition by partition, in the
        # partitions' own order: the same every run. A batch stops at about ``max_ready``, but
        # records of one moment stay together, so a handler sees a moment whole in one batch.
        heads = [(held[0][0], partition) for partition, held in self._held.items() if held and held[0][0] <= bound]
        heapq.heapify(heads)
        ready: list[tuple[datetime, R]] = []
        while heads:
            when, partition = heads[0]
            if self._max_ready is not None and len(ready) >= self._max_ready and when != ready[-1][0]:
                break
            heapq.heappop(heads)
            held = self._held[partition]
            ready.append(held.popleft())
            if held and held[0][0] <= bound:
                heapq.heappush(heads, (held[0][0], partition))
        step: Step[K, R] = Step([record for _, record in ready], more_ready=bool(heads))
        for partition, held in list(self._held.items()):
            if held:
                step.waiting_from[partition] = self._first_offset(partition, held)
            else:
                del self._held[partition]
                self._unsorted.discard(partition)
                self._overtaken.pop(partition, None)
            full = len(held) >= self._max_held
            if full and partition not in self._paused:
                self._paused.add(partition)
                step.pause.append(partition)
            elif not full and partition in self._paused:
                self._paused.discard(partition)
                step.resume.append(partition)
        return step

    def bound(self, behind: Iterable[K]) -> datetime:
        """Event time up to which nothing older can still arrive from a partition that is behind."""
        now = self._clock()
        waited = self._waited()
        # A partition whose wait for its first mark ran out since the last step bounds as unmarked
        # now, not only from the next step: left awaiting, it would bound nothing at all.
        self._give_up_waiting_for_marks(now)
        bounds = []
        behind = set(behind)
        for partition, marks in self._marked.items():
            # Only the mark is promised: what came after it may still be followed by older records
            # (scoring's sweeper publishes reviews between its batches' marks).
            if partition in self._paused:
                bounds.append(self._read_until.get(partition, FAR_PAST))  # as below: the pause must end
                continue
            promised = marks.bound(now, self._last_delivery.get(partition, now), self._mark_idle_s)
            if promised is not None:
                bounds.append(promised)
        if self._max_idle_s > 0:
            for partition, latest in self._read_until.items():
                since = max(self._last_delivery.get(partition, float("-inf")), self._spell_start)
                recent = now - since < self._max_idle_s
                if recent and partition not in behind and partition not in self._marked:
                    bounds.append(latest - _TICK if latest > FAR_PAST else FAR_PAST)
        for partition in behind - self._marked.keys():
            latest = self._read_until.get(partition, FAR_PAST)
            if partition in self._paused:
                # Its next record is no older than its latest; the ones that old wait in memory and
                # must go first, or the pause would never end.
                bounds.append(latest)
            elif waited - self._last_delivery_waited.setdefault(partition, waited) < self._idle_s:
                # Its next record may be exactly as old as its latest: records of that very time
                # wait for it, so equal times from several partitions go out together, in order.
                bounds.append(latest - _TICK if latest > FAR_PAST else FAR_PAST)
        return min(bounds, default=FAR_FUTURE)

    def complete_until(self, behind: Iterable[K]) -> datetime | None:
        """Event time up to which every record of these partitions has been handed on, or will come
        after it: what a mark may promise downstream. None before anything was read."""
        if not self._read_until:
            return None
        until = min(self.bound(behind), max(self._read_until.values()))
        for partition, held in self._held.items():
            if not held:
                continue
            oldest = held[0][0]
            if overtaken := self._overtaken.get(partition):
                # Held at the time of a newer record before it, each is still only as old as its own.
                first = self._first_offset(partition, held)
                while overtaken and overtaken[0][1] < first:
                    heapq.heappop(overtaken)  # released: held records have offsets from ``first`` on
                if overtaken:
                    oldest = min(oldest, overtaken[0][0])
            if oldest <= FAR_PAST:
                return None
            until = min(until, oldest - _TICK)
        return until if until > FAR_PAST else None

    def held(self) -> int:
        """How many records wait in memory, all partitions together."""
        return sum(len(held) for held in self._held.values())

    def has_waiting(self) -> bool:
        """Whether any record waits in memory."""
        return any(self._held.values())

    def waiting(self) -> dict[K, int]:
        """Per partition, the offset of its first waiting record."""
        return {partition: self._first_offset(partition, held) for partition, held in self._held.items() if held}

    def _first_offset(self, partition: K, held: deque[tuple[datetime, R]]) -> int:
        """The lowest offset waiting: as far as the partition may be committed."""
        if partition in self._unsorted:
            return min(self._offset_of(record) for _, record in held)
        return self._offset_of(held[0][1])

    def rewind(self, partitions: Iterable[K]) -> None:
        """Drop what was read from these partitions, which are read again from an earlier offset.

        Unlike ``forget`` (partitions given up), a partition that carries marks stays marked: what
        its marks promised holds only once they are read again, so it promises nothing until its
        next mark (or until its origins are silent for ``mark_idle_s``), and the records read again
        take their own place in time. Started afresh instead, it was taken to be in event-time
        order, and a record older than the one before it went out after newer ones of the other
        partitions (after a Postgres crash, a member's receipt applied before their older chat).
        """
        partitions = list(partitions)
        marked = {partition: self._marked[partition] for partition in partitions if partition in self._marked}
        unmarked = self._unmarked.intersection(partitions)
        self.forget(partitions)
        self._unmarked |= unmarked
        now = self._clock()
        for partition, marks in marked.items():
            self._start_marked(partition, marks, now)

    def _template(self, partition: K) -> _Marks | None:
        """The latest marks of the partition's family, if any partition of it has delivered one."""
        return None if self._family is None else self._family_marks.get(self._family(partition))

    def _start_marked(self, partition: K, template: _Marks, now: float) -> None:
        """Take ``partition`` as marked by ``template``'s producers, with nothing promised yet.

        A partition read from an offset its consumer has not read marks at (assigned in a
        rebalance, or read again after a batch was given back) promises nothing until its next
        mark, and its records take their own place in time. Taken as unmarked instead, it would be
        thought in event-time order, and a record older than the one before it (two ingest
        replicas interleave in a member partition) would go out after newer ones of other
        partitions. If its producers stay silent for ``mark_idle_s`` from now, it stops holding
        the others back, as a marked partition does."""
        origins = template.expected | template.until.keys()
        self._marked[partition] = _Marks(
            since=now,
            until=dict.fromkeys(origins, FAR_PAST),
            seen=dict.fromkeys(origins, now),
            expected=template.expected,
            awaiting=template.awaiting,
        )
        self._last_delivery[partition] = now

    def _first_marked(self, partition: K, since: float) -> _Marks:
        """A partition read as unmarked delivered its first mark: from now on its records take their
        own place in time, and so do those it holds, taken in at the time of a newer one before them
        (two ingest replicas interleave in a member partition). Left so, a record marked later and
        older than those would overtake them, out of their producer's order."""
        self._unmarked.discard(partition)
        if held := self._held.get(partition):
            own, previous = [], FAR_PAST
            for _, record in held:
                previous = self._time_of(record) or previous  # none: with the record before it
                own.append((previous, record))
            reordered = sorted(own, key=lambda item: item[0])  # stable: one time keeps its order
            if any(a is not b for (_, a), (_, b) in zip(reordered, held, strict=True)):
                self._unsorted.add(partition)
            held.clear()  # in place: the caller is adding to this very deque
            held.extend(reordered)
            self._overtaken.pop(partition, None)
        marks = self._marked[partition] = _Marks(since=since)
        return marks

    def _give_up_waiting_for_marks(self, now: float) -> None:
        """A partition awaiting its first mark that none came to in time is taken as unmarked: its
        producer writes none (records published by hand), or is down and not coming back soon."""
        for partition, marks in list(self._marked.items()):
            if marks.awaiting and now - marks.since >= self._first_mark_wait_s:
                del self._marked[partition]
                self._unmarked.add(partition)

    def forget(self, partitions: Iterable[K]) -> None:
        """Drop what is known of these partitions (given up in a rebalance, or rewound): they start afresh."""
        for partition in partitions:
            self._read_until.pop(partition, None)
            self._last_delivery.pop(partition, None)
            self._last_delivery_waited.pop(partition, None)
            self._held.pop(partition, None)
            self._unsorted.discard(partition)
            self._overtaken.pop(partition, None)
            self._paused.discard(partition)
            self._marked.pop(partition, None)
            self._unmarked.discard(partition)


@dataclass
class _Marks:
    """What one partition's marks have promised, per origin (the anonymous one: a single producer)."""

    since: float  # clock when the partition's first mark read was written
    until: dict[str, datetime] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)  # clock of each origin's latest mark
    expected: frozenset[str] = frozenset()  # every origin there is, from the latest mark that said
    awaiting: bool = False  # no mark read yet: the producers are not known, all of them are waited for

    def take(self, mark: Mark, written: float) -> None:
        """Take in ``mark``, written at ``written`` on this aligner's clock."""
        for origin in mark.origins or ("",):
            self.until[origin] = max(mark.until, self.until.get(origin, mark.until))
            self.seen[origin] = max(written, self.seen.get(origin, written))
        if mark.expected:
            self.expected = mark.expected

    def bound(self, now: float, last_delivery: float, idle_s: float) -> datetime | None:
        """The least promise over the origins still heard from; None when none is."""
        if self.awaiting:
            return FAR_PAST  # until its first mark; the aligner gives it up when its wait runs out
        promises = []
        for origin in self.expected | self.until.keys():
            # A partition's single producer shows it is alive with anything it delivers; one of
            # several only with its own marks (the others' records say nothing of it).
            heard = last_delivery if origin == "" else self.seen.get(origin, self.since)
            if now - heard < idle_s:
                promises.append(self.until.get(origin, FAR_PAST))
        return min(promises, default=None)


def _insert_in_time_order(held: deque[tuple[datetime, R]], when: datetime, record: R) -> None:
    """Put ``record`` after every held record no newer than it (records of one time keep their order)."""
    at = len(held)
    while at > 0 and held[at - 1][0] > when:
        at -= 1
    held.insert(at, (when, record))
