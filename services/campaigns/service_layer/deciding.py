"""Deciding a set of candidates against the database: a constant number of batched statements.

Whatever the number of members or campaigns, one pass reads member views, histories and
budgets (three statements), decides in memory, then writes decisions and budget usage (two).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.campaigns.adapters import decision_repository, member_repository
from services.campaigns.adapters import metrics as campaign_metrics
from services.campaigns.domain.affinity import AffinityRules
from services.campaigns.domain.decide import Arbiter, Decision, Guards, Outcome
from services.campaigns.domain.members import MemberView, Timeline, business_day, timeline
from services.campaigns.domain.triggers import Candidate
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from shared.contracts import KafkaRecord, MemberStateV1, OfferIssuedV1, wrap
from shared.contracts.topics import OFFER_ISSUED

SOURCE = "memberpulse/campaigns"
DEFAULT_LOCALE = "zh-CN"


@dataclass(frozen=True)
class DecidingSettings:
    guards: Guards = field(default_factory=Guards)
    default_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    affinity: AffinityRules = field(default_factory=AffinityRules)
    affinity_window_days: int = 90
    fallback_pairs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allowed_lateness_seconds: float = 60.0
    due_batch_size: int = 500

    @property
    def lateness(self) -> timedelta:
        return timedelta(seconds=self.allowed_lateness_seconds)


def offer_event(decision: Decision) -> OfferIssuedV1:
    candidate = decision.candidate
    campaign = candidate.campaign.campaign
    spec = campaign.offer
    variables = {**spec.content, **candidate.variables}
    if candidate.sku:
        variables["sku"] = candidate.sku
    if candidate.category:
        variables["category"] = candidate.category
    deliver_after = decision.deliver_at if decision.deliver_at and decision.deliver_at > candidate.at else None
    return OfferIssuedV1(
        member_id=candidate.member_id,
        occurred_at=candidate.at,
        offer_id=candidate.offer_id,
        campaign_id=campaign.id,
        campaign_kind=campaign.trigger.kind.value,
        message_type=campaign.message_type,
        channels=decision.channels,
        template=spec.template,
        locale=campaign.locale or DEFAULT_LOCALE,
        variables=variables,
        sku=candidate.sku,
        coupon_code=spec.coupon_code,
        coupon_value_minor=spec.coupon_value_minor or None,
        priority=campaign.priority,
        expires_at=decision.expires_at,
        deliver_after=deliver_after,
    )


async def _member_timelines(
    conn: Any,
    member_ids: Sequence[str],
    holder: CampaignHolder,
    settings: DecidingSettings,
    changes: Sequence[MemberStateV1],
) -> dict[str, MemberView | Timeline]:
    stored = await member_repository.load_views(conn, member_ids, holder.stores, settings.default_zone)
    by_member: dict[str, list[MemberStateV1]] = {}
    for state in changes:
        if state.member_id in stored:
            by_member.setdefault(state.member_id, []).append(state)
    views: dict[str, MemberView | Timeline] = dict(stored)
    for member_id, states in by_member.items():
        before = stored[member_id]
        after = [
            (s.occurred_at, member_repository.view_after(before, s, holder.stores, settings.default_zone))
            for s in states
        ]
        views[member_id] = timeline(before, after)
    return views


def _look_back(candidates: Sequence[Candidate], guards: Guards) -> timedelta:
    """How far back a history must reach: the longest cooldown or the cap window."""
    cooldown = max((c.campaign.campaign.cooldown_days for c in candidates), default=0.0)
    return timedelta(days=max(cooldown, guards.cap.window_days, guards.cap.min_gap_hours / 24))


async def decide_and_record(
    conn: Any,
    candidates: Sequence[Candidate],
    holder: CampaignHolder,
    settings: DecidingSettings,
    changes: Sequence[MemberStateV1] = (),
) -> list[KafkaRecord]:
    """Decide, record every decision once, and return the offer records to publish.

    ``changes``: state changes of the same batch, not stored yet. Each candidate is decided on the
    member as of its own moment: before a change that comes later, after one that came earlier.
    """
    if not candidates:
        return []
    guards = settings.guards
    member_ids = sorted({c.member_id for c in candidates})
    views = await _member_timelines(conn, member_ids, holder, settings, changes)
    histories = await decision_repository.load_histories(
        conn, member_ids, min(c.at for c in candidates) - _look_back(candidates, guards)
    )
    budgets = {c.campaign.id: c.campaign.campaign.budget for c in candidates}
    days = {business_day(at, guards.business_zone) for at in {c.at for c in candidates}}
    ledger = await decision_repository.lock_budgets(conn, budgets, days)
    outcomes = Arbiter(guards, ledger).decide(candidates, views, histories)
    fresh = await decision_repository.save(conn, outcomes.decisions)
    recorded = [d for d in outcomes.decisions if d.candidate.key in fresh]
    issued = [d for d in recorded if d.outcome is Outcome.ISSUED]
    await decision_repository.add_budget_usage(conn, issued)
    for d in recorded:
        campaign_metrics.DECISIONS.labels(d.candidate.campaign.id, d.outcome.value, d.reason or "").inc()
    for campaign_id, count in outcomes.outside_audience.items():
        campaign_metrics.OUTSIDE_AUDIENCE.labels(campaign_id).inc(count)
    return [wrap(offer_event(d), topic=OFFER_ISSUED.name, source=SOURCE, event_id=d.candidate.offer_id) for d in issued]
