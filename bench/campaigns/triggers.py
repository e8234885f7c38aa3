"""Trigger events: lifecycle transitions (member.state.v1) and sales (member.purchase.v1) of the bench's members.

Each member gets its share of the events at random moments of the last ``HISTORY_DAYS`` days;
about 40% are state transitions along the lifecycle scoring walks (active → at_risk → dormant →
reactivated → active, or back from at_risk to active), the rest are sales of one to three lines.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.campaigns.catalog import Product
from bench.campaigns.members import Profile
from shared.contracts import (
    KafkaRecord,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
    wrap,
)
from shared.contracts.state import Lifecycle
from shared.contracts.topics import topic_for_contract

STATE_SHARE = 0.4
NEXT: dict[Lifecycle, tuple[Lifecycle, ...]] = {
    Lifecycle.ACTIVE: (Lifecycle.AT_RISK,),
    Lifecycle.AT_RISK: (Lifecycle.DORMANT, Lifecycle.DORMANT, Lifecycle.ACTIVE),
    Lifecycle.DORMANT: (Lifecycle.REACTIVATED,),
    Lifecycle.REACTIVATED: (Lifecycle.ACTIVE, Lifecycle.AT_RISK),
}
TIER_WEIGHTS = {1: 5, 2: 3, 3: 2}


@dataclass(frozen=True)
class Trigger:
    event_id: str
    event: MemberEvent

    def record(self) -> KafkaRecord:
        topic = topic_for_contract(type(self.event)).name
        return wrap(self.event, topic=topic, source="memberpulse/bench", event_id=self.event_id)


class Baskets:
    """Sales of one to three lines from distinct categories, the dearer tiers less often."""

    def __init__(self, run: str, products: Sequence[Product], categories: Sequence[str], rng: random.Random) -> None:
        self.run = run
        self.rng = rng
        self.categories = list(categories)
        self.by_category = {c: [p for p in products if p.category == c] for c in categories}
        self.count = 0

    def sale(self, member: Profile, at: datetime) -> MemberPurchaseV1:
        self.count += 1
        purchase_id = f"{self.run}-p{self.count:08d}"
        lines = []
        for category in self.rng.sample(self.categories, self.rng.choice((1, 1, 2, 2, 3))):
            options = self.by_category[category]
            product = self.rng.choices(options, weights=[TIER_WEIGHTS[p.tier] for p in options])[0]
            qty = self.rng.choice((1, 1, 1, 2, 3))
            amount = qty * product.unit_price_minor
            lines.append(
                PurchaseLine(
                    sku=product.sku,
                    category=category,
                    qty=qty,
                    unit_price_minor=product.unit_price_minor,
                    amount_minor=amount,
                )
            )
        return MemberPurchaseV1(
            member_id=member.member_id,
            occurred_at=at,
            purchase_id=purchase_id,
            kind=PurchaseKind.SALE,
            channel=PurchaseChannel.POS,
            store_id=member.home_store_id,
            currency="CNY",
            lines=tuple(lines),
            total_minor=sum(line.amount_minor for line in lines),
            source="pos_receipt",
            source_event_id=purchase_id,
        )


def backlog(
    run: str, members: Sequence[Profile], events: int, baskets: Baskets, until: datetime, days: int, rng: random.Random
) -> list[Trigger]:
    """``events`` triggers of ``members``, each member's in order, all sorted by event time."""
    since = until - timedelta(days=days)
    span_s = (until - since).total_seconds()
    out: list[Trigger] = []
    share, extra = divmod(events, len(members))
    for n, member in enumerate(members):
        moments = sorted(since + timedelta(seconds=rng.uniform(0, span_s)) for _ in range(share + (n < extra)))
        lifecycle, version = Lifecycle.ACTIVE, 1
        for at in moments:
            if rng.random() < STATE_SHARE:
                previous, lifecycle, version = lifecycle, rng.choice(NEXT[lifecycle]), version + 1
                event: MemberEvent = member.state(at, lifecycle, previous, version)
            else:
                event = baskets.sale(member, at)
            out.append(Trigger(f"{run}-e{len(out):08d}", event))
    out.sort(key=lambda t: t.event.occurred_at)
    return out
