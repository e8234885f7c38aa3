"""Campaigns benchmark: triggers decided per second beside a bare consumer, offer latency, round trips per batch.

``python -m bench.campaigns_throughput [--members N] [--events N] [--latency-rate R]
[--latency-seconds S] [--skip PHASE ...] [--keep] [--profile]`` against the local stack
(``make up``). Nothing is asserted except that nothing was lost (exit 1 if a trigger occurrence
the audience admits has no decision, or a latency trigger no offer; 2 if the run could not start).
The figures are printed as a Markdown table and written to ``out/bench/campaigns-<UTC stamp>.json``;
campaigns' log goes to ``out/bench/logs-campaigns-<stamp>/``.

Run it on a bench or development stack only, with no campaigns process running and nothing else
using campaigns' consumer group ``campaigns`` (its integration tests use it too). It empties
campaigns' tables (as those tests do) before phase 1 and again at the end (``--keep`` leaves
phase 1-2's rows), moves group ``campaigns`` to the end of its five inputs, and afterwards moves
scoring's group past the bench's sales and notifier's past the bench's offers, where they had
read up to them, so neither acts on bench data later.

Method
------
1. Throughput (``throughput``). 50 campaigns (``bench/campaigns/definitions.py``: lifecycle
   transitions into at_risk / dormant / active / reactivated per region and value or engagement
   group, national ones overlapping them, cross-sell and up-sell; holdout 10%, daily budgets,
   cooldowns, some deferrable) are written to a temporary definitions folder. campaigns' tables
   are emptied, stores and a catalog with price tiers are loaded, and ``--members`` members are
   stored in campaigns.members with a fixed profile (region, tiers, p_alive, value at risk). A
   backlog of ``--events`` triggers (about 40% state transitions on member.state.v1, the rest
   sales on member.purchase.v1, over the last 60 days of event time) is published BEFORE
   campaigns starts. A bare aiokafka loop then consumes the same offset ranges (a fresh group,
   batches of ``max_batch_records``, a commit per batch). Then one campaigns process starts
   (HTTP port + 2400, ``MP_CAMPAIGNS_LIVE_CLOCK=false``, the bench's definitions folder). The
   group's lag is polled every 0.25 s from the spawn on; campaigns commits offsets only after a
   batch's transaction, so lag 0 means every trigger was decided and committed. Two rates: N /
   (spawn → lag 0), start-up included, and the records still unread at the first committed batch /
   (first committed batch → lag 0); the ratio is to the bare loop's rate. Then the outbox must
   empty, and "nothing lost" is checked: the bench computes, with the service's own pure functions
   (lifecycle, up-sell and cross-sell candidates, audiences), every (member, campaign, occurrence)
   the audience admits, and each must have its row in decisions (the key is unique, so "exactly
   one"); offers that reached offer.issued.v1 are compared with the issued decisions.
   ``--profile`` records campaigns with py-spy for ``--profile-seconds`` from the first batch.
2. Latency (``latency``). With campaigns idle (lag 0, outbox published), fresh members' first
   states (lifecycle new, in a region only ``bench_latency_welcome`` targets: a greeting with no
   holdout, budget, consent or cap in its way) are produced at ``--latency-rate`` for
   ``--latency-seconds`` by an idempotent acks=all producer. Offers are matched by member id;
   latency = the offer record's Kafka timestamp − the trigger's send time (p50/p95/p99/max), and
   trigger sent → offer consumed beside the bare hop trigger sent → trigger consumed.
3. Round trips (``roundtrips``; no Kafka, after the process stopped). In-process, as the
   campaigns role, inside one transaction that is rolled back: campaigns' tables emptied,
   ``--roundtrip-members`` members stored, ``--roundtrip-campaigns`` campaigns stored and a
   CampaignHolder refreshed; then batches of ``--roundtrip-batches`` decoded triggers go through
   the inbox claim, ``campaigns_handler`` and the outbox append on a connection that counts every
   execute/fetch/fetchrow/fetchval/executemany. Statements per batch stay constant whatever the
   number of members, campaigns or triggers in the batch; per decision they fall as batches grow.

Kafka, Postgres, campaigns and the bench share this machine's cores: the figures are for that setup.
"""

import sys

from bench.campaigns.cli import main

if __name__ == "__main__":
    sys.exit(main())
