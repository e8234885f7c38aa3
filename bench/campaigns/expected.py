"""Which trigger occurrences must be decided: the bench's own answer, with the service's pure functions.

A candidate is (member, campaign, occurrence); campaigns records exactly one decision for each
candidate its audience admits (issued, holdout, queued or suppressed, with the reason), keyed by
``member\\x1fcampaign\\x1foccurrence``. The audience is judged on the member's fixed profile (see
``members``). Cross-sell is judged with the configured pairs only: every basket category has a
configured complement, so a learned one can change which category is offered, never whether.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from zoneinfo import ZoneInfo

from bench.campaigns.members import Profile
from bench.campaigns.triggers import Trigger
from services.campaigns.domain.affinity import AffinityCounts, AffinityRules, Complement, complements
from services.campaigns.domain.definitions import TriggerKind
from services.campaigns.domain.members import admits
from services.campaigns.domain.triggers import (
    Candidate,
    Versioned,
    cross_sell_candidates,
    lifecycle_candidates,
    of_kind,
    up_sell_candidates,
)
from services.campaigns.service_layer.handlers import basket_of, change_of
from shared.contracts import MemberPurchaseV1, MemberStateV1, PurchaseKind

NO_COUNTS = AffinityCounts(baskets=0, category_baskets={}, pair_baskets={})


def expected_keys(
    triggers: Sequence[Trigger],
    members: Mapping[str, Profile],
    campaigns: Sequence[Versioned],
    next_tier: Mapping[str, tuple[str, str]],
    pairs: Mapping[str, Sequence[str]],
    zone: ZoneInfo,
) -> set[str]:
    cross_sell = of_kind(campaigns, TriggerKind.CROSS_SELL)

    def configured(category: str, exclude: Collection[str]) -> list[Complement]:
        return complements(category, NO_COUNTS, AffinityRules(), pairs, exclude)

    keys: set[str] = set()
    for trigger in triggers:
        event = trigger.event
        candidates: list[Candidate] = []
        if isinstance(event, MemberStateV1):
            candidates = lifecycle_candidates(change_of(event), campaigns)
        elif isinstance(event, MemberPurchaseV1) and event.kind is PurchaseKind.SALE:
            basket = basket_of(event)
            candidates = up_sell_candidates(basket, campaigns, next_tier.get)
            candidates += cross_sell_candidates(basket, cross_sell, configured, lambda _c, _e: None)
        if not candidates:
            continue
        view = members[event.member_id].view(zone)
        keys |= {c.key for c in candidates if admits(c.campaign.campaign.audience, view)}
    return keys
