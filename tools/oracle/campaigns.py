"""``expected_decisions(...)``: every decision campaigns must record, its rules folded in event time.

The reference is campaigns with nothing in the way: every input read in event-time order, one
moment at a time, by one process that never stops. At each moment of the run (an event time any
input carries), in the order campaigns' handler keeps within a batch:

1. the state changes of the moment become the members' views, and enter lifecycle campaigns;
2. the timers due by the moment fire: replenishment dates and queued offers whose slot came;
3. the sales count into each member's rhythm (re-timing their replenishment) and trigger up-sell
   and cross-sell, the complement learnt from the baskets of the closed days before;
4. the chats' mentions count towards circle marketing, whose firings reach the community's
   engaged members as of the moment;
5. campaigns' arbitration (``services.campaigns.domain.decide``) decides every candidate against
   the member's history of decisions and the budgets used so far.

Nothing else is shared with the service: the histories, rhythms, timers, co-purchase counts, best
sellers, mentions and budgets are kept here in plain dictionaries, as their definitions say. So a
decision campaigns records differently from this fold depends on where its batches ended or on how
its replicas interleaved, which is what the chaos suite measures (``tools.chaos.verdict``).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.campaigns.domain.affinity import (
    DEFAULT_PAIRS,
    AffinityCounts,
    AffinityRules,
    Complement,
    basket_pairs,
    complements,
)
from services.campaigns.domain.catalog import next_tier_map
from services.campaigns.domain.decide import Arbiter, BudgetLedger, Decision, Guards, MemberHistory, Outcome
from services.campaigns.domain.definitions import Campaign, TriggerKind
from services.campaigns.domain.members import ENGAGED, MemberView, Timeline
from services.campaigns.domain.triggers import (
    Basket,
    Candidate,
    ComplementsOf,
    Line,
    StateChange,
    TopSku,
    Versioned,
    community_candidates,
    cross_sell_candidates,
    interest_firings,
    lifecycle_candidates,
    mentioned_categories,
    of_kind,
    replenishment_candidates,
    replenishment_due,
    up_sell_candidates,
)
from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores
from shared.contracts.offer import Channel, MessageType
from tools.oracle.states import ExpectedState
from tools.simulate.chain import PRICE_TIERS
from tools.simulate.model import SimRecord

# How many best sellers of a category cross-sell picks from (campaigns' best_sellers default).
_BEST_SELLERS = 5
# Each member's state changes of the moment, as their views after each.
_Changed = Mapping[str, list[tuple[datetime, MemberView]]]
_PRESENT = {"join": True, "follow": True, "leave": False, "unfollow": False}


@dataclass(frozen=True)
class ExpectedDecision:
    """A decision as campaigns records it, named by its campaign and moment rather than its key:
    the key holds ingest's purchase ids, which the input log does not know."""

    campaign: str
    at: datetime
    outcome: str
    reason: str | None
    channels: tuple[str, ...] = ()
    deliver_at: datetime | None = None
    category: str | None = None

    def row(self) -> tuple[str, datetime, str, str | None]:
        return (self.campaign, self.at, self.outcome, self.reason)


@dataclass(frozen=True)
class Registries:
    """The chain's registries as campaigns loads them: each store's zone and region, the price ladder."""

    zones: Mapping[str, tuple[str, str | None]]
    next_tier: Mapping[str, tuple[str, str]]

    @classmethod
    def of(cls, stores: Iterable[Mapping[str, str]], products: Iterable[Mapping[str, str]]) -> Registries:
        ranks = {label: rank for rank, label in enumerate(PRICE_TIERS, 1)}
        ladder = [(p["sku"], p.get("category") or None, ranks.get(p.get("price_tier", ""))) for p in products]
        zones = {s["store_id"]: (s["timezone"], s.get("region") or None) for s in stores}
        return cls(zones, next_tier_map(ladder))


@dataclass(frozen=True)
class Rules:
    """The settings of campaigns the decisions depend on; the defaults are the service's own."""

    guards: Guards = field(default_factory=Guards)
    default_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    affinity: AffinityRules = field(default_factory=AffinityRules)
    affinity_window_days: int = 90
    fallback_pairs: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(DEFAULT_PAIRS))


@dataclass
class _Member:
    """What campaigns holds of one member: their view, sales rhythm and recorded decisions."""

    view: MemberView
    purchases: int = 0
    first: datetime | None = None
    last: datetime | None = None
    due: datetime | None = None
    presence: dict[str, tuple[bool, datetime]] = field(default_factory=dict)
    # decision key → the decision; a queued one is replaced when it settles.
    decisions: dict[str, Decision] = field(default_factory=dict)


@dataclass
class _Moment:
    changes: list[tuple[str, Transition]] = field(default_factory=list)
    sales: list[Basket] = field(default_factory=list)
    chats: list[tuple[str, str, str]] = field(default_factory=list)  # (member, community, text)
    presence: list[tuple[str, str, bool]] = field(default_factory=list)  # (member, community, present)


class _Fold:
    def __init__(self, campaigns: Sequence[Campaign], registries: Registries, settings: Rules, policy: Policy) -> None:
        self.campaigns = [Versioned(c, 1) for c in campaigns]
        self.registries = registries
        self.settings = settings
        self.policy = policy
        self.members: dict[str, _Member] = {}
        self.ledger = BudgetLedger({c.id: c.budget for c in campaigns})
        self.arbiter = Arbiter(settings.guards, self.ledger)
        self.timers: list[tuple[datetime, str]] = []  # (replenishment due, member), a heap
        self.queued: list[tuple[datetime, str, str]] = []  # (not before, member, decision key), a heap
        self.day_baskets: Counter[date] = Counter()
        self.day_categories: Counter[tuple[date, str]] = Counter()
        self.day_pairs: Counter[tuple[date, str, str]] = Counter()
        self.day_units: Counter[tuple[date, str, str]] = Counter()
        # Per campaign, community and category: (member, at) of each mention within the window.
        self.asked: dict[tuple[str, str, str], list[tuple[str, datetime]]] = defaultdict(list)
        self.fired: dict[tuple[str, str, str], list[datetime]] = defaultdict(list)
        self.learnt: dict[date, tuple[ComplementsOf, TopSku]] = {}
        # Each transition's snapshot with its scores, as scoring publishes it (scored in one pass).
        self.scored: dict[int, MemberState] = {}

    def member(self, member_id: str) -> _Member:
        known = self.members.get(member_id)
        if known is None:
            known = self.members[member_id] = _Member(MemberView(member_id, self.settings.default_zone))
        return known

    # -- one moment ---------------------------------------------------------------------------

    def step(self, at: datetime, moment: _Moment) -> None:
        for member_id, community, present in moment.presence:
            self._note_presence(member_id, community, present, at)
        candidates: list[Candidate] = []
        changed: dict[str, list[tuple[datetime, MemberView]]] = defaultdict(list)
        for member_id, transition in moment.changes:
            view = self._view_after(self.member(member_id).view, transition, member_id)
            changed[member_id].append((at, view))
            before = transition.before.lifecycle if transition.before else None
            change = StateChange(member_id, at, transition.after.lifecycle, before, transition.after.state_version)
            candidates += lifecycle_candidates(change, self.campaigns)
        candidates += self._due_replenishments(at)
        candidates += self._due_queued(at)
        if moment.sales:
            candidates += self._count_sales(moment.sales)
            candidates += self._purchase_candidates(at, moment.sales)
        if moment.chats:
            candidates += self._community_interest(at, moment.chats, changed)
        self._decide(candidates, changed)
        for member_id, views in changed.items():
            self.member(member_id).view = max(views, key=lambda v: v[1].state_version or 0)[1]

    def _note_presence(self, member_id: str, community: str, present: bool, at: datetime) -> None:
        presence = self.member(member_id).presence
        known = presence.get(community)
        if known is None or at >= known[1]:
            presence[community] = (present, at)

    def _view_after(self, before: MemberView, transition: Transition, member_id: str) -> MemberView:
        after = self.scored.get(id(transition.after), transition.after)
        store = after.home_store_id
        zone_name, region = self.registries.zones.get(store, (None, None)) if store else (None, None)
        communities = sorted(c for c, (present, _) in self.member(member_id).presence.items() if present)
        return MemberView(
            member_id=member_id,
            zone=ZoneInfo(zone_name) if zone_name else self.settings.default_zone,
            lifecycle=after.lifecycle,
            engagement_tier=after.engagement_tier,
            value_tier=after.value_tier,
            p_alive=after.p_alive,
            clv_minor=after.clv_minor,
            value_at_risk_minor=after.value_at_risk_minor,
            home_store_id=store,
            region=region,
            communities=tuple(communities),
            consent=before.consent,
            state_version=after.state_version,
        )

    def _due_replenishments(self, at: datetime) -> list[Candidate]:
        out: list[Candidate] = []
        while self.timers and self.timers[0][0] <= at:
            due, member_id = heapq.heappop(self.timers)
            member = self.member(member_id)
            if member.due != due or member.first is None or member.last is None:
                continue  # re-timed by a later sale since
            member.due = None
            out += replenishment_candidates(member_id, member.first, member.last, member.purchases, at, self.campaigns)
        return out

    def _due_queued(self, at: datetime) -> list[Candidate]:
        out: list[Candidate] = []
        while self.queued and self.queued[0][0] <= at:
            not_before, member_id, key = heapq.heappop(self.queued)
            decision = self.member(member_id).decisions.get(key)
            if decision is None or decision.outcome is not Outcome.QUEUED or decision.not_before != not_before:
                continue
            c = decision.candidate
            out.append(Candidate(c.campaign, c.member_id, c.occurrence, c.at, c.sku, c.category, not_before=not_before))
        return out

    def _count_sales(self, sales: Sequence[Basket]) -> list[Candidate]:
        for basket in sales:
            member = self.member(basket.member_id)
            member.purchases += 1
            member.first = basket.at if member.first is None else min(member.first, basket.at)
            member.last = basket.at if member.last is None else max(member.last, basket.at)
            member.due = replenishment_due(member.first, member.last, member.purchases, self.campaigns)
            if member.due is not None:
                heapq.heappush(self.timers, (member.due, basket.member_id))
            day = basket.at.date()
            self.day_baskets[day] += 1
            for category in basket.categories:
                self.day_categories[(day, category)] += 1
            for a, b in basket_pairs(basket.categories):
                self.day_pairs[(day, a, b)] += 1
            for line in basket.lines:
                if line.category:
                    self.day_units[(day, line.sku, line.category)] += 1
        return []

    def _purchase_candidates(self, at: datetime, sales: Sequence[Basket]) -> list[Candidate]:
        out: list[Candidate] = []
        for basket in sales:
            out += up_sell_candidates(basket, self.campaigns, self.registries.next_tier.get)
        cross_sell = of_kind(self.campaigns, TriggerKind.CROSS_SELL)
        if not cross_sell:
            return out
        complements_of, top_sku = self._learnt_before(at.date())
        for basket in sales:
            out += cross_sell_candidates(basket, cross_sell, complements_of, top_sku)
        return out

    def _learnt_before(self, day: date) -> tuple[ComplementsOf, TopSku]:
        """Cross-sell's knowledge on ``day``: the window's closed days, all counted by now (a cache per day)."""
        if day in self.learnt:
            return self.learnt[day]
        days = {day - timedelta(days=n) for n in range(1, self.settings.affinity_window_days + 1)}
        categories: Counter[str] = Counter()
        for (d, category), n in self.day_categories.items():
            if d in days:
                categories[category] += n
        pairs: Counter[tuple[str, str]] = Counter()
        for (d, a, b), n in self.day_pairs.items():
            if d in days:
                pairs[(a, b)] += n
        counts = AffinityCounts(sum(n for d, n in self.day_baskets.items() if d in days), categories, pairs)
        units: Counter[tuple[str, str]] = Counter()
        for (d, sku, category), n in self.day_units.items():
            if d in days:
                units[(category, sku)] += n
        sellers: dict[str, list[str]] = defaultdict(list)
        for (category, sku), _ in sorted(units.items(), key=lambda item: (item[0][0], -item[1], item[0][1])):
            if len(sellers[category]) < _BEST_SELLERS:
                sellers[category].append(sku)
        rules, fallback = self.settings.affinity, self.settings.fallback_pairs

        def complements_of(category: str, exclude: Collection[str]) -> list[Complement]:
            return complements(category, counts, rules, fallback, exclude)

        def top_sku(category: str, exclude: Collection[str]) -> str | None:
            return next((sku for sku in sellers.get(category, ()) if sku not in exclude), None)

        self.learnt = {day: (complements_of, top_sku)}  # the days before are never asked again
        return self.learnt[day]

    def _community_interest(
        self,
        at: datetime,
        chats: Sequence[tuple[str, str, str]],
        changed: _Changed,
    ) -> list[Candidate]:
        out: list[Candidate] = []
        for campaign in of_kind(self.campaigns, TriggerKind.COMMUNITY_INTEREST):
            trigger = campaign.campaign.trigger
            mentions = [
                (community, category, member_id)
                for member_id, community, text in chats
                for category in mentioned_categories(text, trigger.keywords)
            ]
            if not mentions:
                continue
            window = timedelta(hours=trigger.window_hours)
            cooldown = timedelta(days=campaign.campaign.cooldown_days) or window
            for community, category in sorted({(community, category) for community, category, _ in mentions}):
                asked = self.asked[(campaign.id, community, category)]
                asked += [(member_id, at) for c, k, member_id in mentions if (c, k) == (community, category)]
                asked[:] = [(member_id, t) for member_id, t in asked if t >= at - window]
                earlier = self.fired[(campaign.id, community, category)]
                if not interest_firings(
                    [at], asked, earlier, window=window, min_members=trigger.min_members, cooldown=cooldown
                ):
                    continue
                fired_at = at
                earlier.append(fired_at)
                engaged = [
                    member_id
                    for member_id, member in self.members.items()
                    if _engaged_in(_latest(member.view, changed.get(member_id, ())), community)
                ]
                out += community_candidates(campaign, community, category, fired_at, engaged)
        return out

    def _decide(self, candidates: Sequence[Candidate], changed: _Changed) -> None:
        if not candidates:
            return
        member_ids = sorted({c.member_id for c in candidates})
        views: dict[str, MemberView | Timeline] = {}
        for member_id in member_ids:
            before = self.member(member_id).view
            views[member_id] = Timeline(before, tuple(changed[member_id])) if member_id in changed else before
        since = min(c.at for c in candidates) - _look_back(candidates, self.settings)
        histories = {m: _history(self.member(m).decisions.values(), since) for m in member_ids}
        outcomes = self.arbiter.decide(candidates, views, histories)
        for decision in outcomes.decisions:
            member = self.member(decision.candidate.member_id)
            key = decision.candidate.key
            known = member.decisions.get(key)
            if known is not None and known.outcome is not Outcome.QUEUED:
                continue  # recorded before: the same occurrence decides nothing twice
            member.decisions[key] = decision
            if decision.outcome is Outcome.QUEUED and decision.not_before is not None:
                heapq.heappush(self.queued, (decision.not_before, member.view.member_id, key))


def _latest(view: MemberView, changes: Iterable[tuple[datetime, MemberView]]) -> MemberView:
    for _, changed in changes:
        if (changed.state_version or 0) > (view.state_version or 0):
            view = changed
    return view


def _engaged_in(view: MemberView, community: str) -> bool:
    return view.engagement_tier in ENGAGED and community in view.communities


def _look_back(candidates: Sequence[Candidate], settings: Rules) -> timedelta:
    cap = settings.guards.cap
    cooldown = max((c.campaign.campaign.cooldown_days for c in candidates), default=0.0)
    return timedelta(days=max(cooldown, cap.window_days, cap.min_gap_hours / 24))


def _history(decisions: Iterable[Decision], since: datetime) -> MemberHistory:
    """What the guards read of a member's decisions: those issued or held out since ``since``."""
    history = MemberHistory()
    for d in decisions:
        if d.outcome not in (Outcome.ISSUED, Outcome.HOLDOUT) or d.candidate.at < since:
            continue
        campaign_id = d.candidate.campaign.id
        last = history.last_by_campaign.get(campaign_id)
        if last is None or d.candidate.at > last:
            history.last_by_campaign[campaign_id] = d.candidate.at
        if d.outcome is Outcome.ISSUED and d.candidate.campaign.campaign.message_type is MessageType.MARKETING:
            for channel in d.channels:
                history.deliveries[Channel(channel)].append(d.deliver_at)  # type: ignore[arg-type]
    return history


def expected_decisions(
    records: Iterable[SimRecord],
    states: Mapping[bytes, ExpectedState],
    campaigns: Sequence[Campaign],
    registries: Registries,
    member_ids: Mapping[bytes, str],
    settings: Rules | None = None,
    policy: Policy | None = None,
) -> dict[bytes, list[ExpectedDecision]]:
    """Per person: every decision campaigns must record, oldest first.

    ``member_ids``: the member id each person is known by (a person missing is named by their key):
    holdouts are drawn from a hash of it. ``settings`` and ``policy``: campaigns' and scoring's, by
    default those of a service configured with nothing.
    """
    settings = settings or Rules()
    fold = _Fold(campaigns, registries, settings, policy or Policy())
    person_of: dict[str, bytes] = {}

    def named(person: bytes) -> str:
        member_id = member_ids.get(person) or person.decode()
        person_of[member_id] = person
        return member_id

    moments: dict[datetime, _Moment] = defaultdict(_Moment)
    for record in records:
        meaning = record.meaning
        if record.expect != "accepted" or meaning is None:
            continue
        member_id = named(record.key)
        at = meaning.occurred_at
        if meaning.topic == "purchase" and meaning.kind == "sale":
            lines = tuple(Line(sku, category, amount) for sku, category, amount in meaning.lines)
            moments[at].sales.append(Basket(member_id, record.ref, at, lines, meaning.total_minor))
        elif meaning.topic == "chat":
            moments[at].chats.append((member_id, meaning.community_id, meaning.text))
            if meaning.kind != "recall":
                moments[at].presence.append((member_id, meaning.community_id, True))
        elif meaning.topic == "community":
            moments[at].presence.append((member_id, meaning.community_id, _PRESENT[meaning.kind]))
    for person, state in states.items():
        member_id = named(person)
        for transition in state.transitions:
            moments[transition.at].changes.append((member_id, transition))
    afters = [t.after for state in states.values() for t in state.transitions]
    fold.scored = {id(a): s for a, s in zip(afters, with_scores(afters, fold.policy, value=True), strict=True)}
    for at in sorted(moments):
        fold.step(at, moments[at])
    out: dict[bytes, list[ExpectedDecision]] = defaultdict(list)
    for member_id, member in fold.members.items():
        for d in sorted(member.decisions.values(), key=lambda d: (d.candidate.at, d.candidate.campaign.id)):
            out[person_of.get(member_id, member_id.encode())].append(
                ExpectedDecision(
                    d.candidate.campaign.id,
                    d.candidate.at,
                    d.outcome.value,
                    d.reason.value if d.reason else None,
                    tuple(c.value for c in d.channels),
                    d.deliver_at,
                    d.candidate.category,
                )
            )
    return dict(out)
