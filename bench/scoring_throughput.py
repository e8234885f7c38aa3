"""Scoring benchmark: sustained throughput, overhead over a bare consumer, latency, a million-member sweep.

``python -m bench.scoring_throughput [--events N] [--latency-rate R] [--latency-seconds S]
[--sweep-members M] [--skip PHASE ...] [--keep] [--profile]`` against the local stack
(``make up``). Nothing is asserted except that no event was lost (exit 1 if one was, 2 if the
run could not start). The figures are printed as a Markdown table, each with the command that
reproduces it, and merged into ``bench/results/scoring.json``: a phase skipped keeps the figures
of the run that last measured it (with that run's command), so phases can be run one at a time.

Run it on a bench or development stack only. It moves scoring's consumer group ``scoring`` to
the end of the four input topics before it publishes (records nobody had read there are skipped,
as the scoring integration tests' reset does), and its scoring process sweeps whichever stored
members fall due as its events move the watermark. It truncates nothing: every member it
creates has an id made from a fresh run id, and those rows are deleted at the end.

Method
------
1. Sustained throughput (``throughput``). ``tools.member_history`` generates a year of canonical
   events ending now for enough members (about 40 events each) to reach ``--events``; they are
   published, in event-time order and keyed by member, to member.chat/community/purchase.v1
   BEFORE scoring starts, so scoring meets a full backlog. Scoring's partition clocks are
   cleared first (the sweeper's watermark then follows this history from its start, as in a
   new deployment, instead of standing at the end the last run left it at). Scoring is then started as a real
   process (HTTP port + 3100, ``MP_SCORING_LIVE_CLOCK=false``). The group's lag on the four
   inputs is polled every 0.25 s from the spawn on; scoring commits offsets only after the
   batch's Postgres transaction, so lag 0 means every event was applied (or deferred) and
   committed. Two rates: N / (spawn → lag 0), start-up included, and the records still unread at
   the first committed batch / (first committed batch → lag 0). Then "nothing lost" is checked
   in Postgres: every event id is in scoring's inbox, no event of the run is still deferred, every
   member has a row, and the members' sale + refund counts add up to the purchase events. The
   process's RSS and CPU time are sampled from /proc (CPU seconds per 1,000 events are over the
   steady window). ``--profile`` records the process with py-spy during phases 1 and 3 (when
   py-spy is on PATH or in the venv) and summarises where its samples fall.
2. Baseline (``baseline``, needs phase 1). Before scoring starts, a bare aiokafka loop consumes
   the same offset ranges (a fresh group, manual assignment, batches of ``max_batch_records``)
   and commits per batch, with no processing: the Kafka work of scoring alone.
2b. Domain ceiling (``domain``, needs phase 1; bench/scoring/domain_ceiling.py). The same events,
   already objects, are applied by scoring's pure domain in the bench's own process, in
   event-time order and in batches of ``max_batch_records``, with the scores the service computes
   per batch: the most one scoring process could do with all I/O free.
3. Latency (``latency``). With scoring running and idle (lag 0, outbox published), events are
   produced at a paced ``--latency-rate`` for ``--latency-seconds`` by an idempotent acks=all
   producer; each is the FIRST event of a brand-new member (a sale, a chat message or a join, in
   turn), so each yields exactly one transition on member.state.v1. The bench consumes
   member.state.v1 from its end offsets (taken before producing) and matches on member_id;
   latency = state event consumed - input sent. That is an upper bound of "published → state
   committed": it also includes the outbox relay's poll and publish and the bench's fetch. For
   comparison, the bench also consumes the input topics themselves: one bare Kafka hop
   (published → consumed) over the same events, in the same run.
4. Sweep (``sweep``; no scoring process may run). As the scoring role, ``--sweep-members``
   synthetic member rows (``m_<run>_sweep_<n>``: active participants with two purchases and a
   last interaction 70 days before W) are COPYed into ``members``, with ``next_review_at`` = W - 1
   minute for every hundredth (1% due) and W + 30 days for the rest; then ANALYZE. W is fixed far
   in the past, so no other stored member is due by it (checked first). ``Sweeper.sweep(until=W)``
   is then timed in-process on a real asyncpg pool (default policy, ``--sweep-batch`` members per
   batch): it claims, reviews (each due member falls silent and becomes at_risk), saves, records
   the transitions and queues their state events in the outbox. Afterwards this run's members,
   transitions and (unpublished) outbox rows are deleted and ``members`` is vacuumed, whatever
   ``--keep`` says.

At the end (unless ``--keep``) phases 1 and 3's rows are deleted: members, transitions, sales,
community memberships, deferred events and outbox rows of their member ids, and the
community_activity counters they touched are restored. What stays: the events on the input
topics and the state events on the compacted member.state.v1 (Kafka keeps them), scoring's inbox
ids (its duplicate memory, purged after 420 days) and the partition clocks, moved to now.

Kafka, Postgres, scoring and the bench share this machine's cores: the figures are for that
setup, which the report states.
"""

import sys

from bench.scoring.cli import main

if __name__ == "__main__":
    sys.exit(main())
