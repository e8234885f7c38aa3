"""``lifecycle_decisions(states, campaigns)``: the decisions campaigns owes each person's lifecycle entries.

Campaigns turns every ``member.state.v1`` that enters a lifecycle state into one candidate per
``lifecycle_entered`` campaign for that state (welcome on new, win-back on at_risk, reactivation on
dormant), named by the state version: its idempotency key. Each candidate inside the campaign's
audience ends as exactly one decision, whatever its outcome (issued, holdout, queued or
suppressed by a cap, a cooldown or the budget); one outside it ends as none, only counted.

So from the state changes the oracle folds (``states.py``) it can say, per person:

- **must**: the (campaign, state version) pairs of campaigns with no audience filter, which
  campaigns must decide once each, whatever else happened to the member at that moment;
- **may**: every pair a lifecycle campaign could decide, those behind an audience filter too
  (P(alive) or value at risk, which the oracle does not follow). Any other lifecycle decision is
  for an entry that never happened.

The outcomes are not predicted: caps, arbitration and budgets depend on the cross-sell, up-sell and
replenishment offers at the same moments, whose affinities and budgets are shared by every member
and so depend on how the replicas interleave. Campaign definitions are data: the oracle reads the
same YAML the service loads, through campaigns' domain model, and shares no code path with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.campaigns.domain.definitions import Audience, Campaign, TriggerKind, parse_campaign
from tools.oracle.states import ExpectedState

# The campaigns the service ships and loads when no folder is configured (the chaos suite's set).
SHIPPED = Path(__file__).resolve().parents[2] / "services" / "campaigns" / "defaults"


@dataclass(frozen=True)
class LifecycleDecisions:
    # Per person: (campaign id, state version) that must be decided once each.
    must: dict[bytes, frozenset[tuple[str, int]]]
    # Per person: every (campaign id, state version) that may be decided; nothing else may.
    may: dict[bytes, frozenset[tuple[str, int]]]


def shipped_campaigns(folder: Path = SHIPPED) -> list[Campaign]:
    """The campaign definitions in ``folder``: one mapping or a list of them per YAML file."""
    campaigns: list[Campaign] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for data in document if isinstance(document, list) else [document]:
            campaigns.append(parse_campaign(data))
    return campaigns


def entries(state: ExpectedState) -> list[tuple[int, str]]:
    """(state version, lifecycle) of every change that entered a lifecycle state, oldest first."""
    out: list[tuple[int, str]] = []
    previous: str | None = None
    for change in state.changes:
        if change.lifecycle != previous:
            out.append((change.version, change.lifecycle))
        previous = change.lifecycle
    return out


def lifecycle_decisions(states: Mapping[bytes, ExpectedState], campaigns: Iterable[Campaign]) -> LifecycleDecisions:
    triggered = [c for c in campaigns if c.trigger.kind is TriggerKind.LIFECYCLE_ENTERED and c.trigger.lifecycle]
    must: dict[bytes, frozenset[tuple[str, int]]] = {}
    may: dict[bytes, frozenset[tuple[str, int]]] = {}
    for person, state in states.items():
        pairs = [
            (campaign, version)
            for version, lifecycle in entries(state)
            for campaign in triggered
            if campaign.trigger.lifecycle is not None and campaign.trigger.lifecycle.value == lifecycle
        ]
        may[person] = frozenset((c.id, v) for c, v in pairs)
        must[person] = frozenset((c.id, v) for c, v in pairs if c.audience == Audience())
    return LifecycleDecisions(must, may)
