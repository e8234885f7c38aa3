"""The reference oracle: what a run must end with, computed from the generator's records alone.

It reads nothing but the input log (``tools.simulate`` records, each with the verdict ingest owes
it) and shares no code with the services. What it can promise whatever the timing:

- **accepted**: the upstream event ids that must come out of ingest, each exactly once;
- **dead letters**: every bad record's bytes with the reason it must be rejected for;
- **duplicates** and **ignored**: how many records must be dropped without output;
- **purchases**: each person's sales, spend, refunds and refunded amount, which member state must
  end with whatever the order events arrive in (they are sums);
- **states**: each person's final lifecycle, engagement tier and value tier, and every change on
  the way: scoring's domain rules folded over the events the generator says ingest must make of
  their records (``states.py``);
- **lifecycle decisions**: which decisions the lifecycle campaigns (welcome, win-back,
  reactivation) owe each person's lifecycle entries, and which they may make (``offers.py``);
- **every decision**: campaigns' rules folded over the whole input in event time, one moment at a
  time (``campaigns.py``): each person's decisions of every campaign, with outcome and reason.
  Tracked, not enforced: the fold shares affinities, mentions and budgets across members in one
  order, which replicas running behind one another need not keep (docs/reliability.md).

The messages members are sent are checked by invariants instead (``tools.chaos.verdict``).
"""

from tools.oracle.expected import Expected, body_digest, expected
from tools.oracle.states import ExpectedState, expected_states

__all__ = ["Expected", "ExpectedState", "body_digest", "expected", "expected_states"]
