"""One batch of campaigns' inputs: update the copies, find the triggers, decide, publish offers.

States, sales, chats, consents, delivery statuses and identity merges arrive on six topics; a batch handles
them all in one transaction, so the cost per batch is a fixed set of statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from services.campaigns.adapters import clock_repository, decision_repository, member_repository
from services.campaigns.adapters import metrics as campaign_metrics
from services.campaigns.domain.members import engaged_in
from services.campaigns.domain.triggers import (
    Basket,
    Candidate,
    Line,
    StateChange,
    entering_by_lifecycle,
    lifecycle_candidates,
)
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.clock import CLOCKED_TOPICS, latest_per_partition
from services.campaigns.service_layer.deciding import DecidingSettings, decide_and_record
from services.campaigns.service_layer.merges import follow_merges, onto_survivors
from services.campaigns.service_layer.triggering import (
    attribute,
    community_interest,
    count_sales,
    due_before_sales,
    due_queued,
    due_replenishments,
    purchase_candidates,
    take_back_refunds,
)
from shared.contracts import (
    MemberChatV1,
    MemberConsentV1,
    MemberMergedV1,
    MemberPurchaseV1,
    MemberStateV1,
    NotificationStatusV1,
    PurchaseKind,
)
from shared.kafka.alignment import completeness
from shared.kafka.consumer import Handler
from shared.kafka.records import Decoded, UnitOfWork


def basket_of(purchase: MemberPurchaseV1) -> Basket:
    return Basket(
        member_id=purchase.member_id,
        purchase_id=purchase.purchase_id,
        at=purchase.occurred_at,
        lines=tuple(Line(line.sku, line.category, line.amount_minor) for line in purchase.lines),
        total_minor=purchase.total_minor,
    )


def change_of(state: MemberStateV1) -> StateChange:
    return StateChange(
        state.member_id, state.occurred_at, state.lifecycle, state.previous_lifecycle, state.state_version
    )


def campaigns_handler(holder: CampaignHolder, settings: DecidingSettings) -> Handler[Any]:
    async def handle(uow: UnitOfWork, batch: Sequence[Decoded[Any]]) -> None:
        conn = uow.conn
        campaigns = holder.active
        payloads = [item.payload for item in batch]
        if merges := [p for p in payloads if isinstance(p, MemberMergedV1)]:
            await follow_merges(conn, merges, campaigns)
        payloads = await onto_survivors(conn, payloads)
        states = [p for p in payloads if isinstance(p, MemberStateV1)]
        sales = [basket_of(p) for p in payloads if isinstance(p, MemberPurchaseV1) and p.kind is PurchaseKind.SALE]
        chats = [p for p in payloads if isinstance(p, MemberChatV1)]
        await member_repository.apply_consents(conn, [p for p in payloads if isinstance(p, MemberConsentV1)])
        await decision_repository.record_statuses(conn, [p for p in payloads if isinstance(p, NotificationStatusV1)])
        candidates: list[Candidate] = []
        entering = entering_by_lifecycle(campaigns)  # once a batch, not once a state
        for state in states:
            change = change_of(state)
            candidates += lifecycle_candidates(change, entering.get(change.lifecycle, []))
        # Timers due by the batch's clock are decided with its triggers, in one pass in event time,
        # so where a batch happens to end does not decide which comes first.
        watermark = await _watermark(uow, batch, settings)
        next_sale: dict[str, datetime] = {}
        for basket in sales:
            next_sale[basket.member_id] = min(basket.at, next_sale.get(basket.member_id, basket.at))
        if watermark is not None:
            candidates += await due_replenishments(conn, watermark, holder, settings, next_sale)
            candidates += await due_queued(conn, watermark, holder, settings)
        # A member's own partition is complete up to their sale: a replenishment due before it
        # fires now, before the sale re-times it, however far behind the rest of the group is.
        candidates += await due_before_sales(conn, next_sale, holder)
        if sales:
            # A member's own partition is complete up to each of their sales in the batch: a date set
            # by one that passes before their next one fires, whatever the group's clock says.
            candidates += await count_sales(conn, sales, campaigns, max(b.at for b in sales))
            candidates += await purchase_candidates(conn, sales, holder, settings)
            if watermark is not None:  # a rhythm so short that the batch's own sales made it due again
                candidates += await due_replenishments(conn, watermark, holder, settings)
        # Circle marketing on the group's clock: every partition complete up to a moment, whichever
        # replica read it, before the moment is looked at.
        candidates += await community_interest(conn, watermark, campaigns, chats, states)
        for record in await decide_and_record(conn, candidates, holder, settings, changes=states):
            uow.publish(record)
        # After the decisions, so a sale converts an offer decided earlier in this batch as it would
        # one from an earlier batch: where a batch ends must not decide what converted.
        if sales:
            for campaign_id, arm in await attribute(conn, sales):
                campaign_metrics.CONVERSIONS.labels(campaign_id, arm).inc()
        # After the sales: a sale and its refund can share a batch.
        refunds = [
            (p.original_purchase_id, basket_of(p))
            for p in payloads
            if isinstance(p, MemberPurchaseV1) and p.kind is PurchaseKind.REFUND and p.original_purchase_id
        ]
        for campaign_id, arm in await take_back_refunds(conn, refunds):
            campaign_metrics.CONVERSIONS_WITHDRAWN.labels(campaign_id, arm).inc()
        # Stored last: until here, every candidate saw the member as of its own moment.
        await member_repository.apply_states(conn, states)
        await member_repository.record_engagement(
            conn, [(s.member_id, s.state_version, s.occurred_at, engaged_in(s)) for s in states]
        )

    return handle


async def _watermark(uow: UnitOfWork, batch: Sequence[Decoded[Any]], settings: DecidingSettings) -> datetime | None:
    """The group's clock once this batch is in, less the allowed lateness; None while it is unknown."""
    read: dict[tuple[str, int], datetime | None] = dict(latest_per_partition(batch))
    await note_completeness(uow, read)
    mark = await clock_repository.group_watermark(uow.conn, CLOCKED_TOPICS)
    if mark is None:
        return None
    watermark = mark - settings.lateness
    campaign_metrics.WATERMARK.set(watermark.timestamp())
    return watermark


async def note_completeness(uow: UnitOfWork, read: Mapping[tuple[str, int], datetime | None]) -> None:
    """How far this replica's partitions are complete, for the group's clock (``group_watermark``).

    The timers fire by the slowest partition of the whole group, not by this replica's: with two
    replicas, one may run days of event time ahead while the other's partitions wait for a
    rebalance, and a member's replenishment must not fire before a sale still waiting there.
    """
    owned = [key for key in uow.progress if key[0] in CLOCKED_TOPICS]
    await clock_repository.record_complete(uow.conn, completeness(owned, read, uow.complete_until))


async def note_progress(uow: UnitOfWork) -> None:
    """The input is complete further with nothing to apply (only marks came): the clock moves on."""
    await note_completeness(uow, {})
