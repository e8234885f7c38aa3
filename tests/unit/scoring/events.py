"""Small builders of member events for the scoring specifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from shared.contracts import (
    ChatKind,
    CommunityAction,
    MemberChatV1,
    MemberCommunityV1,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
)
from tests.unit.fakes import MEMBER_ID, T0

_ids = count()


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def chat(
    at: float, *, kind: ChatKind = ChatKind.MESSAGE, text: str = "早上好", member: str = MEMBER_ID
) -> MemberChatV1:
    return MemberChatV1(
        member_id=member,
        occurred_at=day(at),
        community_id="estate-42",
        kind=kind,
        text=text,
        source="chat_json",
        source_event_id=f"chat-{next(_ids)}",
    )


def community(at: float, action: CommunityAction, *, member: str = MEMBER_ID) -> MemberCommunityV1:
    return MemberCommunityV1(
        member_id=member,
        occurred_at=day(at),
        community_id="estate-42",
        action=action,
        source="wechat_oa",
        source_event_id=f"community-{next(_ids)}",
    )


def purchase(
    at: float, *, total_minor: int = 12_000, kind: PurchaseKind = PurchaseKind.SALE, member: str = MEMBER_ID
) -> MemberPurchaseV1:
    line = PurchaseLine(sku="milk-1l", category="dairy", qty=1, unit_price_minor=total_minor, amount_minor=total_minor)
    return MemberPurchaseV1(
        member_id=member,
        occurred_at=day(at),
        purchase_id=f"p-{next(_ids)}",
        kind=kind,
        channel=PurchaseChannel.POS,
        store_id="store-sh-001",
        currency="CNY",
        lines=(line,),
        total_minor=total_minor,
        original_purchase_id="p-0" if kind is PurchaseKind.REFUND else None,
        source="pos_receipt",
        source_event_id=f"receipt-{next(_ids)}",
    )
