"""The reference oracle: what a run must end with, computed from the generator's records alone.

It reads nothing but the input log (``tools.simulate`` records, each with the verdict ingest owes
it) and shares no code with the services. What it can promise whatever the timing:

- **accepted**: the upstream event ids that must come out of ingest, each exactly once;
- **dead letters**: every bad record's bytes with the reason it must be rejected for;
- **duplicates** and **ignored**: how many records must be dropped without output;
- **purchases**: each person's sales, spend, refunds and refunded amount, which member state must
  end with whatever the order events arrive in (they are sums).

A member's lifecycle and tiers, and the offers they earn, also depend on the order in which topics
are read, which no oracle can know; ``tools.chaos.verdict`` checks invariants for those instead
(docs/reliability.md).
"""

from tools.oracle.expected import Expected, body_digest, expected

__all__ = ["Expected", "body_digest", "expected"]
