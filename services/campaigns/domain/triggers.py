"""From what happened to candidate offers: each trigger kind, as pure functions.

A candidate names its trigger occurrence (a state version, a purchase, a purchase cycle, a
community surge). With the member and the campaign it is the idempotency key, so the same
occurrence redelivered can never issue a second offer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from itertools import pairwise

from services.campaigns.domain.affinity import Complement
from services.campaigns.domain.definitions import Campaign, TriggerKind
from shared.contracts.envelope import derived_event_id
from shared.contracts.state import Lifecycle


@dataclass(frozen=True)
class Versioned:
    """A campaign as stored: the definition and the version decisions are recorded against."""

    campaign: Campaign
    version: int

    @property
    def id(self) -> str:
        return self.campaign.id

    @property
    def kind(self) -> TriggerKind:
        return self.campaign.trigger.kind


@dataclass(frozen=True)
class Candidate:
    """One campaign firing for one member at one moment (event time)."""

    campaign: Versioned
    member_id: str
    occurrence: str
    at: datetime
    sku: str | None = None
    category: str | None = None
    basket_minor: int = 0
    variables: Mapping[str, str] = field(default_factory=dict)
    # A queued candidate comes back with the earliest time it may be sent.
    not_before: datetime | None = None

    # Cached: read several times per decision (arbitration, saving, publishing), and offer_id is a
    # UUIDv5 hash (about 3% of campaigns' busy time in the backlog bench when recomputed).
    @cached_property
    def key(self) -> str:
        return "\x1f".join((self.member_id, self.campaign.id, self.occurrence))

    @cached_property
    def offer_id(self) -> str:
        return derived_event_id("offer", self.campaign.id, self.member_id, self.occurrence)


@dataclass(frozen=True)
class StateChange:
    member_id: str
    at: datetime
    lifecycle: Lifecycle
    previous_lifecycle: Lifecycle | None
    state_version: int


@dataclass(frozen=True)
class Line:
    sku: str
    category: str | None
    amount_minor: int


@dataclass(frozen=True)
class Basket:
    """A sale, as campaigns sees it (refunds trigger nothing)."""

    member_id: str
    purchase_id: str
    at: datetime
    lines: tuple[Line, ...]
    total_minor: int

    @property
    def skus(self) -> frozenset[str]:
        return frozenset(line.sku for line in self.lines)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(line.category for line in self.lines if line.category)

    def by_amount(self) -> list[Line]:
        """Lines, the biggest spend first: the offer follows what mattered most in the basket."""
        return sorted(self.lines, key=lambda line: (-line.amount_minor, line.sku))


def of_kind(campaigns: Iterable[Versioned], kind: TriggerKind) -> list[Versioned]:
    return [c for c in campaigns if c.kind is kind]


def entering_by_lifecycle(campaigns: Iterable[Versioned]) -> dict[Lifecycle | None, list[Versioned]]:
    """Lifecycle-entered campaigns by the state they wait for: a batch looks each change up once
    instead of scanning every campaign for it (tens of campaigns, tens of thousands of changes)."""
    grouped: dict[Lifecycle | None, list[Versioned]] = {}
    for c in of_kind(campaigns, TriggerKind.LIFECYCLE_ENTERED):
        grouped.setdefault(c.campaign.trigger.lifecycle, []).append(c)
    return grouped


def lifecycle_candidates(change: StateChange, campaigns: Sequence[Versioned]) -> list[Candidate]:
    """The member has just entered a lifecycle state: win-back, reactivation, welcome."""
    if change.previous_lifecycle is change.lifecycle:
        return []
    return [
        Candidate(c, change.member_id, f"state:{change.state_version}", change.at)
        for c in of_kind(campaigns, TriggerKind.LIFECYCLE_ENTERED)
        if c.campaign.trigger.lifecycle is change.lifecycle
    ]


def _fires_on(campaign: Campaign, category: str | None) -> bool:
    wanted = campaign.trigger.categories
    return not wanted or category in wanted


ComplementsOf = Callable[[str, Collection[str]], list[Complement]]
TopSku = Callable[[str, Collection[str]], str | None]


def cross_sell_candidates(
    basket: Basket, campaigns: Sequence[Versioned], complements: ComplementsOf, top_sku: TopSku
) -> list[Candidate]:
    """Offer what goes with the biggest line that has a complement; never what was just bought."""
    out = []
    for c in of_kind(campaigns, TriggerKind.CROSS_SELL):
        for line in basket.by_amount():
            if line.category is None or not _fires_on(c.campaign, line.category):
                continue
            found = complements(line.category, basket.categories)
            if not found:
                continue
            target = found[0].category
            out.append(
                Candidate(
                    c,
                    basket.member_id,
                    f"purchase:{basket.purchase_id}",
                    basket.at,
                    sku=top_sku(target, basket.skus),
                    category=target,
                    basket_minor=basket.total_minor,
                    variables={"bought_category": line.category, "offer_category": target},
                )
            )
            break
    return out


NextTier = Callable[[str], tuple[str, str] | None]


def up_sell_candidates(basket: Basket, campaigns: Sequence[Versioned], next_tier: NextTier) -> list[Candidate]:
    """The next price tier of the same need, for a line whose spend shows the member can move up."""
    out = []
    for c in of_kind(campaigns, TriggerKind.UP_SELL):
        floor = c.campaign.trigger.min_line_amount_minor
        for line in basket.by_amount():
            if line.amount_minor < floor or not _fires_on(c.campaign, line.category):
                continue
            better = next_tier(line.sku)
            if better is None or better[0] in basket.skus:
                continue
            sku, category = better
            out.append(
                Candidate(
                    c,
                    basket.member_id,
                    f"purchase:{basket.purchase_id}",
                    basket.at,
                    sku=sku,
                    category=category,
                    basket_minor=basket.total_minor,
                    variables={"bought_sku": line.sku, "offer_sku": sku},
                )
            )
            break
    return out


def mean_gap(first: datetime, last: datetime, purchases: int) -> timedelta | None:
    """The member's own rhythm: the mean time between purchases, once there are two."""
    if purchases < 2 or last <= first:
        return None
    return (last - first) / (purchases - 1)


def replenishment_due(
    first: datetime | None, last: datetime | None, purchases: int, campaigns: Sequence[Versioned]
) -> datetime | None:
    """When the earliest replenishment campaign falls due for this member, if any does."""
    if first is None or last is None:
        return None
    gap = mean_gap(first, last, purchases)
    dues = [
        last + gap * c.campaign.trigger.cadence_factor
        for c in of_kind(campaigns, TriggerKind.REPLENISHMENT)
        if gap is not None and purchases >= c.campaign.trigger.min_purchases
    ]
    return min(dues, default=None)


def replenishments_between(
    member_id: str,
    before: tuple[int, datetime | None, datetime | None],
    sales: Sequence[datetime],
    until: datetime,
    campaigns: Sequence[Versioned],
) -> list[Candidate]:
    """Replenishments that fell due between one member's sales of a batch, by ``until``.

    ``before``: (purchases, first, last) as counted before the batch. A batch counts its sales all
    at once, so the date one sale set would be gone by the next, although it passed before the
    member came back: whether it fired would depend on where a batch happens to end. Here each
    sale but the last is counted in event-time order and gets its own chance; the last sale's date
    is the member's timer, as usual.
    """
    purchases, first, last = before
    ordered = sorted(sales)
    out: list[Candidate] = []
    for at, following in pairwise(ordered):
        purchases += 1
        first = at if first is None else min(first, at)
        if last is not None and at < last:
            continue  # a late sale: the date it leaves is the stored timer's, decided before the batch's sales
        last = at
        out += replenishment_candidates(member_id, first, last, purchases, min(following, until), campaigns)
    return out


def replenishment_candidates(
    member_id: str,
    first: datetime,
    last: datetime,
    purchases: int,
    now: datetime,
    campaigns: Sequence[Versioned],
) -> list[Candidate]:
    """ "You usually buy again about now": one offer per purchase cycle (keyed by the last purchase)."""
    gap = mean_gap(first, last, purchases)
    if gap is None:
        return []
    out = []
    for c in of_kind(campaigns, TriggerKind.REPLENISHMENT):
        due = last + gap * c.campaign.trigger.cadence_factor
        if purchases >= c.campaign.trigger.min_purchases and due <= now:
            days = f"{gap.total_seconds() / 86400:.0f}"
            out.append(
                Candidate(
                    c,
                    member_id,
                    f"replenish:{last.isoformat()}",
                    due,
                    sku=c.campaign.offer.sku,
                    category=c.campaign.offer.category,
                    variables={"usual_gap_days": days},
                )
            )
    return out


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def mentioned_categories(text: str, keywords: Mapping[str, Sequence[str]]) -> set[str]:
    """Categories a message asks about: a keyword appears in it (NFKC, case-folded)."""
    folded = _folded(text)
    return {category for category, words in keywords.items() if any(_folded(w) in folded for w in words)}


def interest_firings(
    points: Iterable[datetime],
    asked: Iterable[tuple[str, datetime]],
    fired: Iterable[datetime],
    *,
    window: timedelta,
    min_members: int,
    cooldown: timedelta,
) -> list[datetime]:
    """When circle marketing fires in one community about one category, oldest first.

    ``points``: mention times to look at; ``asked``: every (member, time) mention that may count at
    them, none missing; ``fired``: when it fired before. It fires at a point at which the members who
    asked within ``window`` up to it reach ``min_members``, unless it fires within ``cooldown`` of
    another firing. Taken in event-time order once every partition is complete up to them, the
    points fire the same however the mentions were spread over partitions and batches.
    """
    mentions = sorted(asked, key=lambda mention: mention[1])
    fires = list(fired)
    out: list[datetime] = []
    for point in sorted(set(points)):
        members = {member for member, at in mentions if point - window <= at <= point}
        if len(members) >= min_members and all(abs(point - f) >= cooldown for f in fires):
            fires.append(point)
            out.append(point)
    return out


def community_candidates(
    campaign: Versioned, community_id: str, category: str, fired_at: datetime, members: Iterable[str]
) -> list[Candidate]:
    """Circle marketing: the community's engaged members get the group offer."""
    occurrence = f"community:{community_id}:{category}:{fired_at.isoformat()}"
    return [
        Candidate(
            campaign,
            member_id,
            occurrence,
            fired_at,
            sku=campaign.campaign.offer.sku,
            category=category,
            variables={"community_id": community_id, "offer_category": category},
        )
        for member_id in sorted(members)
    ]


def lifecycle_states_triggered(campaigns: Iterable[Versioned]) -> set[Lifecycle]:
    return {
        c.campaign.trigger.lifecycle
        for c in of_kind(campaigns, TriggerKind.LIFECYCLE_ENTERED)
        if c.campaign.trigger.lifecycle is not None
    }
