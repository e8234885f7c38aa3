"""Arbitration: from candidates to one decision per member per moment, through every guard.

For each member and moment (the event time of the triggers) the candidates pass, in order:
audience → consent → cooldown → quiet hours → frequency caps → arbitration → holdout → budget.
Each candidate that reaches the guards ends as exactly one decision: issued, holdout (decided,
recorded, never sent), queued (deferrable, waits for its slot) or suppressed with a reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from services.campaigns.domain.caps import FrequencyCap, allows, next_allowed
from services.campaigns.domain.definitions import Budget
from services.campaigns.domain.holdout import in_global_holdout, in_holdout
from services.campaigns.domain.members import (
    MemberView,
    Timeline,
    admits,
    business_day,
    consented_channels,
    expected_value,
)
from services.campaigns.domain.quiet_hours import QuietHours, next_send_time
from services.campaigns.domain.triggers import Candidate
from shared.contracts.offer import Channel, MessageType


class Outcome(StrEnum):
    ISSUED = "issued"
    HOLDOUT = "holdout"
    SUPPRESSED = "suppressed"
    QUEUED = "queued"


class Reason(StrEnum):
    """Why a candidate was not issued (docs/campaigns.md explains each)."""

    NO_CONSENT = "no_consent"
    COOLDOWN = "cooldown"
    FREQUENCY_CAP = "frequency_cap"
    LOST_ARBITRATION = "lost_arbitration"
    BUDGET_DAILY = "budget_daily_exhausted"
    BUDGET_TOTAL = "budget_total_exhausted"
    BUDGET_COUPON = "budget_coupon_exhausted"
    EXPIRED = "expired_while_queued"
    GLOBAL_HOLDOUT = "global_holdout"
    CAMPAIGN_HOLDOUT = "campaign_holdout"


@dataclass(frozen=True)
class Guards:
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    quiet: QuietHours = field(default_factory=QuietHours)
    global_holdout_pct: float = 0.0
    # Whether a member who never said anything about a channel may get marketing on it.
    consent_by_default: bool = True
    # The chain's business zone: a budget's "day" is a day there.
    business_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


@dataclass
class MemberHistory:
    """What the member already has: marketing deliveries per channel, last decision per campaign."""

    deliveries: dict[Channel, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    last_by_campaign: dict[str, datetime] = field(default_factory=dict)


@dataclass
class BudgetLedger:
    """Budget used so far, as read under lock at the start of the batch; taking is exact."""

    budgets: Mapping[str, Budget]
    day_used: dict[tuple[str, date], int] = field(default_factory=dict)
    total_used: dict[str, int] = field(default_factory=dict)
    coupon_used: dict[str, int] = field(default_factory=dict)

    def take(self, campaign_id: str, day: date, coupon_minor: int) -> Reason | None:
        budget = self.budgets.get(campaign_id)
        if budget is None or not budget.limited:
            return None
        used_today = self.day_used.get((campaign_id, day), 0)
        used = self.total_used.get(campaign_id, 0)
        coupons = self.coupon_used.get(campaign_id, 0)
        if budget.max_per_day is not None and used_today >= budget.max_per_day:
            return Reason.BUDGET_DAILY
        if budget.max_total is not None and used >= budget.max_total:
            return Reason.BUDGET_TOTAL
        if budget.coupon_money_minor is not None and coupons + coupon_minor > budget.coupon_money_minor:
            return Reason.BUDGET_COUPON
        self.day_used[(campaign_id, day)] = used_today + 1
        self.total_used[campaign_id] = used + 1
        self.coupon_used[campaign_id] = coupons + coupon_minor
        return None


@dataclass(frozen=True)
class Decision:
    candidate: Candidate
    outcome: Outcome
    reason: Reason | None = None
    channels: tuple[Channel, ...] = ()
    deliver_at: datetime | None = None
    expires_at: datetime | None = None
    not_before: datetime | None = None
    expected_value_minor: int = 0
    budget_day: date | None = None

    @property
    def attribution_until(self) -> datetime | None:
        if self.deliver_at is None:
            return None
        return self.deliver_at + timedelta(days=self.candidate.campaign.campaign.attribution_window_days)


@dataclass(frozen=True)
class Eligible:
    candidate: Candidate
    channels: tuple[Channel, ...]
    deliver_at: datetime
    expires_at: datetime
    value: int


@dataclass
class Outcomes:
    decisions: list[Decision] = field(default_factory=list)
    # Candidates the audience filter turned away, per campaign: not targeted, so no decision, only counted.
    outside_audience: Counter[str] = field(default_factory=Counter)


def _is_marketing(candidate: Candidate) -> bool:
    return candidate.campaign.campaign.message_type is MessageType.MARKETING


def _moments(candidates: Iterable[Candidate]) -> list[list[Candidate]]:
    """Candidates grouped per member and moment, earliest first, the most valuable group first on ties."""
    groups: dict[tuple[str, datetime], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        groups[(candidate.member_id, candidate.at)].append(candidate)
    best = {k: max(c.campaign.campaign.priority for c in v) for k, v in groups.items()}
    return [groups[k] for k in sorted(groups, key=lambda k: (k[1], -best[k], k[0]))]


def _queue_or_suppress(candidate: Candidate, reason: Reason, not_before: datetime) -> Decision:
    if candidate.campaign.campaign.deferrable:
        return Decision(candidate, Outcome.QUEUED, reason, not_before=not_before)
    return Decision(candidate, Outcome.SUPPRESSED, reason)


class Arbiter:
    def __init__(self, guards: Guards, ledger: BudgetLedger) -> None:
        self.guards = guards
        self.ledger = ledger

    def decide(
        self,
        candidates: Sequence[Candidate],
        members: Mapping[str, MemberView | Timeline],
        histories: Mapping[str, MemberHistory],
    ) -> Outcomes:
        """``members``: each member's view, or their timeline through the batch (decided as of each moment)."""
        outcomes = Outcomes()
        for moment in _moments(candidates):
            member_id = moment[0].member_id
            known = members[member_id]
            member = known.at(moment[0].at) if isinstance(known, Timeline) else known
            history = histories[member_id]
            targeted = []
            for c in moment:
                if admits(c.campaign.campaign.audience, member):
                    targeted.append(c)
                else:
                    outcomes.outside_audience[c.campaign.id] += 1
            eligible: list[Eligible] = []
            for candidate in targeted:
                verdict = self._guard(candidate, member, history)
                if isinstance(verdict, Decision):
                    outcomes.decisions.append(verdict)
                else:
                    eligible.append(verdict)
            outcomes.decisions.extend(self._arbitrate(eligible, member, history))
        return outcomes

    def _guard(self, candidate: Candidate, member: MemberView, history: MemberHistory) -> Decision | Eligible:
        """The per-candidate guards: consent, cooldown, quiet hours and frequency caps."""
        campaign = candidate.campaign.campaign
        expires_at = candidate.at + timedelta(days=campaign.offer.expires_after_days)
        channels = consented_channels(campaign, member, default=self.guards.consent_by_default)
        if not channels:
            return Decision(candidate, Outcome.SUPPRESSED, Reason.NO_CONSENT)
        last = history.last_by_campaign.get(campaign.id)
        if last is not None and abs(candidate.at - last) < timedelta(days=campaign.cooldown_days):
            return Decision(candidate, Outcome.SUPPRESSED, Reason.COOLDOWN)
        earliest = max(candidate.at, candidate.not_before or candidate.at)
        deliver_at = next_send_time(earliest, member.zone, self.guards.quiet)
        if deliver_at >= expires_at:
            return Decision(candidate, Outcome.SUPPRESSED, Reason.EXPIRED)
        if _is_marketing(candidate):
            open_channels = tuple(c for c in channels if allows(history.deliveries[c], deliver_at, self.guards.cap))
            if not open_channels:
                slot = min(next_allowed(history.deliveries[c], deliver_at, self.guards.cap) for c in channels)
                return _queue_or_suppress(candidate, Reason.FREQUENCY_CAP, slot)
            channels = open_channels
        value = expected_value(campaign, member, candidate.basket_minor)
        return Eligible(candidate, channels, deliver_at, expires_at, value)

    def _arbitrate(self, eligible: list[Eligible], member: MemberView, history: MemberHistory) -> list[Decision]:
        """One winner per moment: highest priority, then expected value; the rest lose or queue."""
        ranked = sorted(
            eligible, key=lambda e: (-e.candidate.campaign.campaign.priority, -e.value, e.candidate.campaign.id)
        )
        decisions: list[Decision] = []
        winner: Decision | None = None
        for entry in ranked:
            candidate = entry.candidate
            if winner is not None:
                slot = winner.deliver_at or entry.deliver_at
                if _is_marketing(candidate) and _is_marketing(winner.candidate):
                    slot = next_allowed(
                        [*history.deliveries[entry.channels[0]], slot], entry.deliver_at, self.guards.cap
                    )
                decisions.append(_queue_or_suppress(candidate, Reason.LOST_ARBITRATION, slot))
                continue
            decision = self._settle(entry, member)
            decisions.append(decision)
            if decision.outcome is Outcome.SUPPRESSED:
                continue  # out of budget: the next candidate may still win this moment
            winner = decision
            history.last_by_campaign[candidate.campaign.id] = candidate.at
            if decision.outcome is Outcome.ISSUED and _is_marketing(candidate):
                for channel in decision.channels:
                    history.deliveries[channel].append(entry.deliver_at)
        return decisions

    def _settle(self, entry: Eligible, member: MemberView) -> Decision:
        """The moment's best candidate: held out, issued within budget, or out of budget."""
        candidate = entry.candidate
        campaign = candidate.campaign.campaign
        decided = Decision(
            candidate,
            Outcome.HOLDOUT,
            channels=entry.channels,
            deliver_at=entry.deliver_at,
            expires_at=entry.expires_at,
            expected_value_minor=entry.value,
        )
        if in_global_holdout(member.member_id, self.guards.global_holdout_pct):
            return replace(decided, reason=Reason.GLOBAL_HOLDOUT)
        if in_holdout(member.member_id, campaign.id, campaign.holdout_pct):
            return replace(decided, reason=Reason.CAMPAIGN_HOLDOUT)
        day = business_day(candidate.at, self.guards.business_zone)
        refused = self.ledger.take(campaign.id, day, campaign.offer.coupon_value_minor)
        if refused is not None:
            return Decision(candidate, Outcome.SUPPRESSED, refused)
        return replace(decided, outcome=Outcome.ISSUED, budget_day=day)
