"""Notifier benchmark: sends/s to a local provider sink, the rate limit honoured, offer → provider call latency.

``python -m bench.notifier_throughput [--members N] [--limit-rate R] [--limit-burst B] [--limit-offers N]
[--latency-rate R] [--latency-seconds S] [--skip PHASE ...] [--keep] [--profile]`` against the local stack
(``make up``). Nothing is asserted except that nothing was lost or doubled (exit 1 if a send has no
delivery at the sink, a ledger row is not 'sent', or a key was called twice; 2 if the run could not start).
The figures are printed as a Markdown table and written to ``out/bench/notifier-<UTC stamp>.json``;
notifier's log goes to ``out/bench/logs-notifier-<stamp>/``.

Run it on a bench or development stack only, with no notifier process running and nothing else in
consumer group ``notifier`` (its integration tests use it too). It empties notifier's tables before each
phase's backlog and again at the end (``--keep`` leaves them), and moves group ``notifier`` to the end of
its inputs (offer.issued.v1, member.consent.v1) before publishing.

The provider is ``tools.provider_sinks`` run as its own process (SMS gateway; every call logged
with its arrival time). notifier is configured with the SMS provider only (its gateway settings, timeout
and connection pool, at their defaults) and a rate limit for it; every tuning setting (claim batch,
in-flight sends, poll interval) is the service's default.

Method
------
1. Throughput (``throughput``). ``--members`` contacts (one E.164 phone each) are stored and as many
   offers (channel sms, greeting, template ``welcome``) published to offer.issued.v1 BEFORE notifier
   starts, with the sms limit at 100,000/s (burst 10,000) so it is not what is measured. One notifier
   (HTTP port + 2500) then sends them. Sends/s = (n − 1) / (first → last arrival at the sink); also
   spawn → all sent. Nothing lost or doubled: one delivery per idempotency key, one accepted call per
   key (no call repeated), every ledger row 'sent'. CPU-s of notifier per 1,000 sends from /proc over
   the window first → last delivery seen by the bench's poll.
2. Rate limit (``ratelimit``). A fresh notifier with the sms limit at ``--limit-rate`` (burst
   ``--limit-burst``, default rate / 10) sends a backlog of ``--limit-offers``. Achieved rate after the
   first second (the burst) at the sink, as a ratio to the limit; and the worst excess over any stretch
   of arrivals, max (sends − rate × length), which a token bucket keeps ≤ burst (first second included).
3. Latency (``latency``; on phase 1's process, idle, at its unlimited limit). Offers for fresh contacts
   are published at ``--latency-rate`` for ``--latency-seconds`` by an idempotent acks=all producer;
   latency = the sink's arrival time (wall clock) − the offer's send time (wall clock), per offer.
4. Sink ceiling (``ceiling``). A bare HTTP/1.1 loop in the bench process (asyncio streams, no HTTP
   library), 100 keep-alive connections (notifier's SMS pool size), one request in flight on each, sends
   ``--ceiling-calls`` valid SMS to the sink: the sink-side rate is what the sink takes on this machine
   from a client that costs next to nothing; notifier's rate is given as a ratio to it.

Kafka, Postgres, the sink, notifier and the bench share this machine's cores: the figures are for that setup.
"""

import sys

from bench.notifier.cli import main

if __name__ == "__main__":
    sys.exit(main())
