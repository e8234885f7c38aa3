"""From a batch's inputs to candidates: the trigger kinds that need the database to fire."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from services.campaigns.adapters import (
    affinity_repository,
    community_repository,
    decision_repository,
    member_repository,
)
from services.campaigns.domain.affinity import Complement, complements
from services.campaigns.domain.attribution import converted_revenue, refunded_revenue
from services.campaigns.domain.definitions import TriggerKind
from services.campaigns.domain.members import ENGAGED, engaged_as_of
from services.campaigns.domain.triggers import (
    Basket,
    Candidate,
    Versioned,
    community_candidates,
    cross_sell_candidates,
    interest_firings,
    mentioned_categories,
    of_kind,
    replenishment_candidates,
    replenishment_due,
    replenishments_between,
    up_sell_candidates,
)
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.deciding import DecidingSettings
from shared.contracts import MemberChatV1, MemberStateV1


async def count_sales(
    conn: Any, baskets: Sequence[Basket], campaigns: Sequence[Versioned], until: datetime | None = None
) -> list[Candidate]:
    """Fold sales into each member's rhythm and re-time their replenishment, then the co-purchase counts.

    Returns the replenishments that fell due, by ``until``, between two of a member's sales in the
    batch (``replenishments_between``).
    """
    sales_of: dict[str, list[datetime]] = {}
    for basket in baskets:
        sales_of.setdefault(basket.member_id, []).append(basket.at)
    repeat = [m for m, times in sales_of.items() if len(times) > 1]
    before = await member_repository.rhythms(conn, repeat) if repeat and until is not None else {}
    rhythms = await member_repository.apply_sales(conn, [(b.member_id, b.at) for b in baskets])
    await member_repository.set_replenishment_due(
        conn, {r.member_id: replenishment_due(r.first, r.last, r.purchases, campaigns) for r in rhythms}
    )
    await affinity_repository.count_baskets(conn, baskets)
    if until is None:
        return []
    out: list[Candidate] = []
    for member_id in repeat:
        known = before.get(member_id)
        counted = (known.purchases, known.first, known.last) if known else (0, None, None)
        out += replenishments_between(member_id, counted, sales_of[member_id], until, campaigns)
    return out


async def attribute(conn: Any, baskets: Sequence[Basket]) -> list[tuple[str, str]]:
    """Mark the offers (and holdout decisions) the batch's sales convert; returns (campaign, arm) of each,
    the arm being ``offer`` or ``holdout``.

    Run after the batch's own decisions, so a sale converts an offer decided earlier in the same
    batch exactly as it would one from an earlier batch. A sale of the very moment an offer was
    decided (the purchase that triggered it) is not caused by it.
    """
    offers = await decision_repository.open_offers(
        conn, sorted({b.member_id for b in baskets}), min(b.at for b in baskets), max(b.at for b in baskets)
    )
    by_member: dict[str, list[Basket]] = {}
    for basket in baskets:
        by_member.setdefault(basket.member_id, []).append(basket)
    conversions = []
    converted = []
    for offer in offers:
        for basket in sorted(by_member.get(offer.member_id, ()), key=lambda b: b.at):
            if basket.at <= offer.decided_at:
                continue
            revenue = converted_revenue(offer.sku, offer.category, offer.deliver_at, offer.attribution_until, basket)
            if revenue is not None:
                conversions.append((offer.decision_key, basket.at, basket.purchase_id, revenue))
                converted.append((offer.campaign_id, "holdout" if offer.outcome == "holdout" else "offer"))
                break
    await decision_repository.mark_converted(conn, conversions)
    return converted


async def take_back_refunds(conn: Any, refunds: Sequence[tuple[str, Basket]]) -> list[tuple[str, str]]:
    """Count refunds of converting purchases against their conversions; returns (campaign, arm) of each
    conversion withdrawn because its lines were refunded in full."""
    by_original: dict[str, list[Basket]] = {}
    for original, refund in refunds:
        by_original.setdefault(original, []).append(refund)
    if not by_original:
        return []
    conversions = await decision_repository.conversions_by(conn, by_original)
    taken = [
        (conversion.decision_key, amount)
        for conversion in conversions
        for refund in by_original[conversion.purchase_id]
        if (amount := refunded_revenue(conversion.sku, conversion.category, refund)) > 0
    ]
    withdrawn = set(await decision_repository.take_back(conn, taken))
    return [
        (c.campaign_id, "holdout" if c.outcome == "holdout" else "offer")
        for c in conversions
        if c.decision_key in withdrawn
    ]


async def purchase_candidates(
    conn: Any, baskets: Sequence[Basket], holder: CampaignHolder, settings: DecidingSettings
) -> list[Candidate]:
    """Cross-sell and up-sell for the batch's sales: two statements for all of them."""
    campaigns = holder.active
    out: list[Candidate] = []
    for basket in baskets:
        out += up_sell_candidates(basket, campaigns, holder.next_tier.get)
    cross_sell = of_kind(campaigns, TriggerKind.CROSS_SELL)
    if not cross_sell:
        return out
    by_day: dict[date, list[Basket]] = {}
    for basket in baskets:
        by_day.setdefault(basket.at.date(), []).append(basket)
    for day, todays in sorted(by_day.items()):
        out += await _cross_sell_on(conn, day, todays, cross_sell, settings)
    return out


async def _cross_sell_on(
    conn: Any, day: date, baskets: Sequence[Basket], cross_sell: Sequence[Versioned], settings: DecidingSettings
) -> list[Candidate]:
    """Cross-sell for one day's baskets, from what was learnt over the window's closed days.

    Closed days only: how much of today the other partitions have already counted depends on how
    far each has been read, so a replay would not decide as live did. Yesterday and before are in.
    """
    until = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
    since = until - timedelta(days=settings.affinity_window_days - 1)
    bought = set().union(*(b.categories for b in baskets))
    counts = await affinity_repository.window_counts(conn, bought, since, until)

    def complements_of(category: str, exclude: Collection[str]) -> list[Complement]:
        return complements(category, counts, settings.affinity, settings.fallback_pairs, exclude)

    targets = {c.category for cat in bought for c in complements_of(cat, ())}
    sellers = await affinity_repository.best_sellers(conn, targets, since, until)

    def top_sku(category: str, exclude: Collection[str]) -> str | None:
        return next((sku for sku in sellers.get(category, ()) if sku not in exclude), None)

    out: list[Candidate] = []
    for basket in baskets:
        out += cross_sell_candidates(basket, cross_sell, complements_of, top_sku)
    return out


_JUST_BEFORE = timedelta(microseconds=1)


async def community_interest(
    conn: Any,
    until: datetime | None,
    campaigns: Sequence[Versioned],
    chats: Sequence[MemberChatV1] = (),
    changes: Sequence[MemberStateV1] = (),
) -> list[Candidate]:
    """Circle marketing: when enough members of a community ask about a category, its engaged members get an offer.

    ``chats``' mentions are kept; then each community and category with mentions up to ``until``
    (the group's clock: every partition is complete that far, whichever replica reads it) not yet
    looked at is looked at, oldest first. A mention older than where the campaign has looked (a late
    one) sends it back to look again from there; a firing within the cooldown of another is not
    repeated. ``changes``: the batch's state changes, not stored yet; the engaged are counted as of
    each moment.
    """
    out: list[Candidate] = []
    for campaign in of_kind(campaigns, TriggerKind.COMMUNITY_INTEREST):
        trigger = campaign.campaign.trigger
        window = timedelta(hours=trigger.window_hours)
        cooldown = timedelta(days=campaign.campaign.cooldown_days) or window
        earliest: dict[tuple[str, str], datetime] = {}
        mentions = []
        for chat in chats:
            for category in mentioned_categories(chat.text, trigger.keywords):
                key = (chat.community_id, category)
                earliest[key] = min(chat.occurred_at, earliest.get(key, chat.occurred_at))
                mentions.append((chat.community_id, category, chat.member_id, chat.occurred_at))
        await community_repository.log_mentions(conn, campaign.id, mentions)
        due = await community_repository.keys_due(conn, campaign.id, until) if until is not None else []
        # Keys in one order in every transaction, so two replicas never wait on each other in a circle.
        for key in sorted({*due, *earliest}):
            looked = await community_repository.lock(conn, campaign.id, key)
            if looked is not None and key in earliest and earliest[key] <= looked:
                looked = earliest[key] - _JUST_BEFORE  # a late mention: look again from it
                await community_repository.looked(conn, campaign.id, key, looked, window)
            if until is None:
                continue
            since = None if looked is None else looked - window
            asked = await community_repository.mentions(conn, campaign.id, key, since, until)
            points = [at for _, at in asked if looked is None or looked < at]
            if not points:
                continue
            fired = await community_repository.fired_near(
                conn, campaign.id, key, points[0] - cooldown, points[-1] + cooldown
            )
            firings = interest_firings(
                points, asked, fired, window=window, min_members=trigger.min_members, cooldown=cooldown
            )
            for at in firings:
                if not await community_repository.fire(conn, campaign.id, key, at):
                    continue
                # As of the moment: a replica ahead of the group's clock may have stored newer states.
                stored = await member_repository.engaged_at(conn, key[0], at, [t.value for t in ENGAGED])
                members = engaged_as_of(key[0], at, stored, changes)
                out += community_candidates(campaign, key[0], key[1], at, members)
            await community_repository.looked(conn, campaign.id, key, points[-1], window)
    return out


async def due_candidates(
    conn: Any, until: datetime, holder: CampaignHolder, settings: DecidingSettings
) -> list[Candidate]:
    """What fell due by ``until`` (event time): replenishment, queued offers whose slot came, and
    circle marketing's moments."""
    return (
        await due_replenishments(conn, until, holder, settings)
        + await due_queued(conn, until, holder, settings)
        + await community_interest(conn, until, holder.active)
    )


async def due_replenishments(
    conn: Any,
    until: datetime,
    holder: CampaignHolder,
    settings: DecidingSettings,
    next_sale: Mapping[str, datetime] | None = None,
) -> list[Candidate]:
    """Members whose next purchase fell due by ``until``.

    ``next_sale``: the members' first sale among inputs not yet counted. A member who buys before
    the due date was never due: that sale re-times them when it is counted.
    """
    campaigns = holder.active
    if not of_kind(campaigns, TriggerKind.REPLENISHMENT):
        return []
    out: list[Candidate] = []
    for rhythm in await member_repository.claim_replenishments(conn, until, settings.due_batch_size):
        for candidate in replenishment_candidates(
            rhythm.member_id, rhythm.first, rhythm.last, rhythm.purchases, until, campaigns
        ):
            bought = (next_sale or {}).get(candidate.member_id)
            if bought is None or candidate.at <= bought:
                out.append(candidate)
    return out


async def due_before_sales(conn: Any, first_sale: Mapping[str, datetime], holder: CampaignHolder) -> list[Candidate]:
    """Members whose replenishment fell due before their first sale of the batch, whatever the clock.

    Their own partition is complete up to that sale, and a rhythm depends on their own sales only.
    """
    campaigns = holder.active
    if not first_sale or not of_kind(campaigns, TriggerKind.REPLENISHMENT):
        return []
    out: list[Candidate] = []
    for rhythm in await member_repository.claim_replenishments_of(conn, first_sale):
        out += replenishment_candidates(
            rhythm.member_id, rhythm.first, rhythm.last, rhythm.purchases, first_sale[rhythm.member_id], campaigns
        )
    return out


async def due_queued(conn: Any, until: datetime, holder: CampaignHolder, settings: DecidingSettings) -> list[Candidate]:
    """Queued offers whose slot came by ``until``; a paused campaign's queue waits, untouched, until it is resumed."""
    by_id = {c.id: c for c in holder.active}
    return [
        Candidate(
            by_id[row.campaign_id],
            row.member_id,
            row.occurrence,
            row.decided_at,
            sku=row.sku,
            category=row.category,
            not_before=row.not_before,
        )
        for row in await decision_repository.claim_queued(conn, until, sorted(by_id), settings.due_batch_size)
    ]
