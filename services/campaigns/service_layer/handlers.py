"""One batch of campaigns' inputs: update the copies, find the triggers, decide, publish offers.

States, sales, chats, consents, delivery statuses and identity merges arrive on six topics; a batch handles
them all in one transaction, so the cost per batch is a fixed set of statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.campaigns.adapters import clock_repository, decision_repository, member_repository
from services.campaigns.adapters import metrics as campaign_metrics
from services.campaigns.domain.definitions import TriggerKind
from services.campaigns.domain.triggers import Basket, Candidate, Line, StateChange, lifecycle_candidates, of_kind
from services.campaigns.service_layer.campaign_holder import CampaignHolder
from services.campaigns.service_layer.deciding import DecidingSettings, decide_and_record
from services.campaigns.service_layer.merges import follow_merges, onto_survivors
from services.campaigns.service_layer.triggering import (
    attribute,
    community_interest,
    count_sales,
    due_candidates,
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


def _latest_per_partition(batch: Sequence[Decoded[Any]]) -> dict[tuple[str, int], datetime]:
    positions: dict[tuple[str, int], datetime] = {}
    for item in batch:
        if item.event_time is None:
            continue
        key = (item.record.topic, item.record.partition)
        positions[key] = max(item.event_time, positions.get(key, item.event_time))
    return positions


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
        await member_repository.apply_states(conn, states)
        candidates: list[Candidate] = []
        entering = of_kind(campaigns, TriggerKind.LIFECYCLE_ENTERED)  # once a batch, not once a state
        for state in states:
            candidates += lifecycle_candidates(change_of(state), entering)
        if sales:
            await count_sales(conn, sales, campaigns)
            for campaign_id, arm in await attribute(conn, sales):
                campaign_metrics.CONVERSIONS.labels(campaign_id, arm).inc()
            candidates += await purchase_candidates(conn, sales, holder, settings)
        # After the sales: a sale and its refund can share a batch.
        refunds = [
            (p.original_purchase_id, basket_of(p))
            for p in payloads
            if isinstance(p, MemberPurchaseV1) and p.kind is PurchaseKind.REFUND and p.original_purchase_id
        ]
        for campaign_id, arm in await take_back_refunds(conn, refunds):
            campaign_metrics.CONVERSIONS_WITHDRAWN.labels(campaign_id, arm).inc()
        if chats:
            candidates += await community_interest(conn, chats, campaigns)
        positions = _latest_per_partition(batch)
        if positions:
            latest = await clock_repository.advance(conn, positions)
            if latest is not None:
                watermark = latest - settings.lateness
                campaign_metrics.WATERMARK.set(watermark.timestamp())
                candidates += await due_candidates(conn, watermark, holder, settings)
        for record in await decide_and_record(conn, candidates, holder, settings):
            uow.publish(record)

    return handle
