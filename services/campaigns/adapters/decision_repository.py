"""Decisions, the histories guards read from them, budgets under lock, delivery and conversion marks."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.campaigns.domain.decide import BudgetLedger, Decision, MemberHistory, Outcome
from services.campaigns.domain.definitions import Budget
from shared.contracts.offer import Channel, DeliveryStatus, MessageType, NotificationStatusV1


async def load_histories(conn: Any, member_ids: Sequence[str], since: datetime) -> dict[str, MemberHistory]:
    """Each member's marketing deliveries per channel and last decision per campaign since ``since``."""
    histories = {member_id: MemberHistory() for member_id in member_ids}
    rows = await conn.fetch(
        """SELECT member_id, campaign_id, outcome, message_type, channels, deliver_at, decided_at
           FROM decisions
           WHERE member_id = ANY($1::text[]) AND outcome IN ('issued', 'holdout') AND decided_at >= $2""",
        list(member_ids),
        since,
    )
    for r in rows:
        history = histories[r["member_id"]]
        last = history.last_by_campaign.get(r["campaign_id"])
        if last is None or r["decided_at"] > last:
            history.last_by_campaign[r["campaign_id"]] = r["decided_at"]
        if r["outcome"] == Outcome.ISSUED and r["message_type"] == MessageType.MARKETING:
            for channel in r["channels"]:
                history.deliveries[Channel(channel)].append(r["deliver_at"])
    return histories


async def lock_budgets(conn: Any, budgets: Mapping[str, Budget], days: Iterable[date]) -> BudgetLedger:
    """Budget used so far for limited campaigns, locked to the end of the transaction.

    The lock on each campaign's total row serialises every replica that wants that campaign's
    budget, so the last offer cannot be issued twice; days are read under the same lock.
    """
    limited = sorted(cid for cid, budget in budgets.items() if budget.limited)
    ledger = BudgetLedger(budgets)
    if not limited:
        return ledger
    # Sorted ids, so two replicas lock in the same order and never deadlock.
    await conn.execute(
        """INSERT INTO budget_totals (campaign_id) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING""",
        limited,
    )
    rows = await conn.fetch(
        """WITH locked AS (SELECT campaign_id, issued, coupon_minor FROM budget_totals
                           WHERE campaign_id = ANY($1::text[]) ORDER BY campaign_id FOR UPDATE)
           SELECT l.campaign_id, l.issued, l.coupon_minor, d.day, d.issued AS day_issued
           FROM locked l LEFT JOIN budget_days d ON d.campaign_id = l.campaign_id AND d.day = ANY($2::date[])""",
        limited,
        sorted(set(days)),
    )
    for r in rows:
        ledger.total_used[r["campaign_id"]] = r["issued"]
        ledger.coupon_used[r["campaign_id"]] = r["coupon_minor"]
        if r["day"] is not None:
            ledger.day_used[(r["campaign_id"], r["day"])] = r["day_issued"]
    return ledger


async def save(conn: Any, decisions: Sequence[Decision]) -> set[str]:
    """Insert decisions; the keys returned are the ones that are new (or a queued one now settled).

    A redelivered trigger meets its own key and changes nothing, so it issues nothing twice.
    """
    if not decisions:
        return set()
    c = [d.candidate for d in decisions]
    rows = await conn.fetch(
        """INSERT INTO decisions AS d (decision_key, offer_id, member_id, campaign_id, campaign_version, kind,
                  occurrence, decided_at, outcome, reason, message_type, channels, deliver_at, expires_at,
                  not_before, sku, category, coupon_value_minor, expected_value_minor, attribution_until)
           SELECT u.key, u.offer_id, u.member_id, u.campaign_id, u.version, u.kind, u.occurrence, u.at, u.outcome,
                  u.reason, u.message_type, COALESCE(string_to_array(NULLIF(u.channels, ''), ','), '{}'),
                  u.deliver_at, u.expires_at, u.not_before, u.sku, u.category, u.coupon, u.value, u.attribution
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
                       $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[],
                       $14::timestamptz[], $15::timestamptz[], $16::text[], $17::text[], $18::bigint[],
                       $19::bigint[], $20::timestamptz[])
                AS u(key, offer_id, member_id, campaign_id, version, kind, occurrence, at, outcome, reason,
                     message_type, channels, deliver_at, expires_at, not_before, sku, category, coupon, value,
                     attribution)
           ON CONFLICT (decision_key) DO UPDATE SET
               outcome = EXCLUDED.outcome, reason = EXCLUDED.reason, channels = EXCLUDED.channels,
               deliver_at = EXCLUDED.deliver_at, expires_at = EXCLUDED.expires_at, not_before = EXCLUDED.not_before,
               expected_value_minor = EXCLUDED.expected_value_minor, attribution_until = EXCLUDED.attribution_until
           WHERE d.outcome = 'queued'
           RETURNING decision_key""",
        [x.key for x in c],
        [x.offer_id for x in c],
        [x.member_id for x in c],
        [x.campaign.id for x in c],
        [x.campaign.version for x in c],
        [x.campaign.kind.value for x in c],
        [x.occurrence for x in c],
        [x.at for x in c],
        [d.outcome.value for d in decisions],
        [d.reason.value if d.reason else None for d in decisions],
        [x.campaign.campaign.message_type.value for x in c],
        [",".join(ch.value for ch in d.channels) for d in decisions],
        [d.deliver_at for d in decisions],
        [d.expires_at for d in decisions],
        [d.not_before for d in decisions],
        [x.sku for x in c],
        [x.category for x in c],
        [
            x.campaign.campaign.offer.coupon_value_minor if d.outcome is Outcome.ISSUED else 0
            for x, d in zip(c, decisions, strict=True)
        ],
        [d.expected_value_minor for d in decisions],
        [d.attribution_until for d in decisions],
    )
    return {r["decision_key"] for r in rows}


async def add_budget_usage(conn: Any, issued: Sequence[Decision]) -> None:
    """Count issued offers into the budgets, under the locks ``lock_budgets`` took."""
    per_day: dict[tuple[str, date], int] = {}
    per_campaign: dict[str, tuple[int, int]] = {}
    for d in issued:
        if d.budget_day is None or not d.candidate.campaign.campaign.budget.limited:
            continue
        cid = d.candidate.campaign.id
        per_day[(cid, d.budget_day)] = per_day.get((cid, d.budget_day), 0) + 1
        count, coupons = per_campaign.get(cid, (0, 0))
        per_campaign[cid] = (count + 1, coupons + d.candidate.campaign.campaign.offer.coupon_value_minor)
    if not per_campaign:
        return
    days = sorted(per_day)
    ids = sorted(per_campaign)
    await conn.execute(
        """WITH days AS (
               INSERT INTO budget_days AS b (campaign_id, day, issued)
               SELECT * FROM unnest($1::text[], $2::date[], $3::int[])
               ON CONFLICT (campaign_id, day) DO UPDATE SET issued = b.issued + EXCLUDED.issued)
           UPDATE budget_totals t SET issued = t.issued + u.n, coupon_minor = t.coupon_minor + u.coupons
           FROM unnest($4::text[], $5::int[], $6::bigint[]) AS u(campaign_id, n, coupons)
           WHERE t.campaign_id = u.campaign_id""",
        [k[0] for k in days],
        [k[1] for k in days],
        [per_day[k] for k in days],
        ids,
        [per_campaign[i][0] for i in ids],
        [per_campaign[i][1] for i in ids],
    )


@dataclass(frozen=True)
class QueuedRow:
    decision_key: str
    member_id: str
    campaign_id: str
    occurrence: str
    decided_at: datetime
    not_before: datetime
    sku: str | None
    category: str | None


async def claim_queued(conn: Any, until: datetime, campaign_ids: Sequence[str], limit: int) -> list[QueuedRow]:
    """Queued decisions of active campaigns whose slot has come, locked so no two replicas take one."""
    rows = await conn.fetch(
        """SELECT decision_key, member_id, campaign_id, occurrence, decided_at, not_before, sku, category
           FROM decisions WHERE outcome = 'queued' AND not_before <= $1 AND campaign_id = ANY($2::text[])
           ORDER BY not_before LIMIT $3 FOR UPDATE SKIP LOCKED""",
        until,
        list(campaign_ids),
        limit,
    )
    return [QueuedRow(**dict(r)) for r in rows]


async def record_statuses(conn: Any, statuses: Sequence[NotificationStatusV1]) -> None:
    """The latest delivery outcome per offer; delivered stays delivered."""
    if not statuses:
        return
    await conn.execute(
        """UPDATE decisions d SET last_status = u.status,
               delivered_at = CASE WHEN u.status = $4 THEN COALESCE(d.delivered_at, u.at) ELSE d.delivered_at END
           FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(offer_id, status, at)
           WHERE d.offer_id = u.offer_id""",
        [s.offer_id for s in statuses],
        [s.status.value for s in statuses],
        [s.occurred_at for s in statuses],
        DeliveryStatus.DELIVERED.value,
    )


@dataclass(frozen=True)
class OpenOffer:
    decision_key: str
    campaign_id: str
    member_id: str
    sku: str | None
    category: str | None
    deliver_at: datetime
    attribution_until: datetime
    outcome: str  # issued, or holdout: the arm the conversion counts for
    decided_at: datetime


async def open_offers(conn: Any, member_ids: Sequence[str], earliest: datetime, latest: datetime) -> list[OpenOffer]:
    """Unconverted offers (and holdout decisions) whose attribution window overlaps the batch's sales."""
    rows = await conn.fetch(
        """SELECT decision_key, campaign_id, member_id, sku, category, deliver_at, attribution_until, outcome,
                  decided_at
           FROM decisions
           WHERE member_id = ANY($1::text[]) AND outcome IN ('issued', 'holdout') AND converted_at IS NULL
             AND deliver_at <= $3 AND attribution_until >= $2""",
        list(member_ids),
        earliest,
        latest,
    )
    return [OpenOffer(**dict(r)) for r in rows]


async def mark_converted(conn: Any, conversions: Sequence[tuple[str, datetime, str, int]]) -> None:
    """(decision key, purchase time, purchase id, revenue): the first conversion sticks."""
    if not conversions:
        return
    await conn.execute(
        """UPDATE decisions d SET converted_at = u.at, conversion_purchase_id = u.purchase_id, revenue_minor = u.revenue
           FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[]) AS u(key, at, purchase_id, revenue)
           WHERE d.decision_key = u.key AND (d.converted_at IS NULL OR d.converted_at > u.at)""",
        [c[0] for c in conversions],
        [c[1] for c in conversions],
        [c[2] for c in conversions],
        [c[3] for c in conversions],
    )


@dataclass(frozen=True)
class Conversion:
    decision_key: str
    campaign_id: str
    member_id: str
    sku: str | None
    category: str | None
    purchase_id: str
    revenue_minor: int
    refunded_minor: int
    outcome: str


async def conversions_by(conn: Any, purchase_ids: Collection[str]) -> list[Conversion]:
    """The conversions these purchases made, locked: their refunds are about to be counted."""
    rows = await conn.fetch(
        """SELECT decision_key, campaign_id, member_id, sku, category, conversion_purchase_id AS purchase_id,
                  revenue_minor, refunded_minor, outcome
           FROM decisions WHERE conversion_purchase_id = ANY($1::text[])
           ORDER BY decision_key FOR UPDATE""",
        sorted(purchase_ids),
    )
    return [Conversion(**dict(r)) for r in rows]


async def take_back(conn: Any, refunds: Sequence[tuple[str, int]]) -> list[str]:
    """(decision key, refunded revenue): count it; a conversion refunded in full is withdrawn.

    Returns the keys of the withdrawn conversions.
    """
    if not refunds:
        return []
    rows = await conn.fetch(
        """WITH u AS (SELECT key, sum(amount) AS amount FROM unnest($1::text[], $2::bigint[]) AS u(key, amount)
                      GROUP BY key),
                counted AS (SELECT d.decision_key, d.refunded_minor + u.amount >= d.revenue_minor AS withdrawn,
                                   d.refunded_minor + u.amount AS refunded
                            FROM decisions d JOIN u ON d.decision_key = u.key
                            WHERE d.converted_at IS NOT NULL)
           UPDATE decisions d
           SET refunded_minor = CASE WHEN c.withdrawn THEN 0 ELSE c.refunded END,
               converted_at = CASE WHEN c.withdrawn THEN NULL ELSE d.converted_at END,
               conversion_purchase_id = CASE WHEN c.withdrawn THEN NULL ELSE d.conversion_purchase_id END,
               revenue_minor = CASE WHEN c.withdrawn THEN NULL ELSE d.revenue_minor END
           FROM counted c WHERE d.decision_key = c.decision_key
           RETURNING d.decision_key, c.withdrawn""",
        [r[0] for r in refunds],
        [r[1] for r in refunds],
    )
    return sorted(r["decision_key"] for r in rows if r["withdrawn"])


async def move_decisions(conn: Any, survivor: str, merged: str) -> None:
    """A merged member's decisions become the survivor's: its caps, cooldowns and open offers count for the person.

    Decision keys keep the id they were made under: they name a trigger occurrence, which does not change.
    """
    await conn.execute("UPDATE decisions SET member_id = $1 WHERE member_id = $2", survivor, merged)
