"""From a parsed record and its resolved member to the canonical events ingest publishes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.ingest.domain.model import (
    ChatDraft,
    CommunityDraft,
    DeliveryReceiptDraft,
    OrderVersion,
    Parsed,
    ReceiptDraft,
)
from services.ingest.domain.purchases import OrderState, Product, Store, apply_order_version, receipt_purchase
from shared.contracts import MemberChatV1, MemberCommunityV1, MemberPurchaseV1, NotificationReceiptV1

CanonicalEvent = MemberChatV1 | MemberCommunityV1 | MemberPurchaseV1 | NotificationReceiptV1


@dataclass
class References:
    """The registries and order history a batch needs, loaded once per batch."""

    stores: Mapping[str, Store]
    products: Mapping[str, Product]
    orders: dict[str, OrderState] = field(default_factory=dict)
    default_timezone: str = "Asia/Shanghai"


def canonical_events(parsed: Parsed, member_id: str, refs: References, now: datetime) -> list[CanonicalEvent]:
    """The events ``parsed`` stands for; updates ``refs.orders`` for e-commerce order versions.

    Raises ``InvalidRecord`` when the record turns out invalid only with its references
    (a POS time outside the accepted range once converted with the store's zone).
    """
    body = parsed.body
    if isinstance(body, ChatDraft):
        return [
            MemberChatV1(
                member_id=member_id,
                occurred_at=body.occurred_at,
                community_id=body.community_id,
                store_id=body.store_id,
                kind=body.kind,
                text=body.text,
                reply_to=body.reply_to,
                refers_to=body.refers_to,
                source=parsed.source,
                source_event_id=parsed.dedup_key,
            )
        ]
    if isinstance(body, CommunityDraft):
        return [
            MemberCommunityV1(
                member_id=member_id,
                occurred_at=body.occurred_at,
                community_id=body.community_id,
                action=body.action,
                source=parsed.source,
                source_event_id=parsed.dedup_key,
            )
        ]
    if isinstance(body, DeliveryReceiptDraft):
        return [
            NotificationReceiptV1(
                member_id=member_id,
                occurred_at=body.occurred_at,
                channel=body.channel,
                provider_message_id=body.provider_message_id,
                delivered=body.delivered,
                provider_status=body.provider_status,
                source=parsed.source,
            )
        ]
    if isinstance(body, ReceiptDraft):
        return [
            receipt_purchase(
                body,
                member_id=member_id,
                source=parsed.source,
                source_event_id=parsed.dedup_key,
                store=refs.stores.get(body.store_id),
                catalog=refs.products,
                default_timezone=refs.default_timezone,
                now=now,
            )
        ]
    assert isinstance(body, OrderVersion)
    state, events = apply_order_version(
        refs.orders.get(body.order_id), body, member_id=member_id, catalog=refs.products, source=parsed.source
    )
    refs.orders[body.order_id] = state
    return list(events)
