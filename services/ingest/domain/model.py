"""What an upstream record says once parsed, before identity resolution and registry look-ups.

Format adapters (``formats/``) turn raw bytes into one ``Parsed`` value. They are pure and
need no database: the member id, the store's time zone, the catalog and an e-commerce order's
history are applied afterwards by ``resolve``, inside the batch's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.contracts import Channel, ChatKind, CommunityAction, PurchaseChannel, PurchaseKind


class IdKind(StrEnum):
    """Upstream identifiers that name a member. Values are hashed at the edge, never stored raw."""

    CARD_NO = "card_no"
    PHONE = "phone"
    WECHAT_OPENID = "wechat_openid"
    WECHAT_UNIONID = "wechat_unionid"
    WECOM_EXTERNAL_ID = "wecom_external_id"
    SHOP_CUSTOMER_ID = "shop_customer_id"
    APP_USER_ID = "app_user_id"


@dataclass(frozen=True, order=True)
class Identifier:
    """One hashed upstream identifier. ``digest`` is a keyed hash of the normalised raw value."""

    kind: IdKind
    digest: str


@dataclass(frozen=True)
class ChatDraft:
    community_id: str
    kind: ChatKind
    occurred_at: datetime  # aware, UTC
    text: str = ""
    store_id: str | None = None
    reply_to: str | None = None
    # For edits and recalls: the source event id of the message they change.
    refers_to: str | None = None


@dataclass(frozen=True)
class CommunityDraft:
    community_id: str
    action: CommunityAction
    occurred_at: datetime  # aware, UTC


@dataclass(frozen=True)
class DeliveryReceiptDraft:
    """A provider's word on a message the notifier sent (WeChat's TEMPLATESENDJOBFINISH push)."""

    channel: Channel
    provider_message_id: str  # the id the provider's send API returned, as the notifier stored it
    delivered: bool
    provider_status: str  # the provider's own status, stripped
    occurred_at: datetime  # aware, UTC


@dataclass(frozen=True)
class LineDraft:
    sku: str
    qty: int  # > 0 for sales and refunds alike
    unit_price_minor: int  # >= 0
    discount_minor: int = 0  # >= 0, never more than qty * unit_price_minor

    @property
    def amount_minor(self) -> int:
        return self.qty * self.unit_price_minor - self.discount_minor


@dataclass(frozen=True)
class ReceiptDraft:
    """A POS receipt (live or from a CSV export). ``issued_local`` is the store's wall-clock time."""

    receipt_id: str
    store_id: str
    issued_local: datetime  # naive: converted to UTC with the store's zone by ``resolve``
    currency: str
    kind: PurchaseKind
    lines: tuple[LineDraft, ...]
    total_minor: int
    original_receipt_id: str | None = None
    channel: PurchaseChannel = PurchaseChannel.POS


class OrderStatus(StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderVersion:
    """One version of a web-shop order. ``refunded_*`` is the order's cumulative refund so far."""

    order_id: str
    version: int
    status: OrderStatus
    occurred_at: datetime  # aware, UTC: paid_at
    currency: str
    items: tuple[LineDraft, ...]
    refunded_items: tuple[LineDraft, ...] = ()
    refunded_minor: int = 0


Body = ChatDraft | CommunityDraft | DeliveryReceiptDraft | ReceiptDraft | OrderVersion


@dataclass(frozen=True)
class Parsed:
    """A valid upstream record.

    ``dedup_key`` names the event upstream (its source event id, qualified where ids are only
    unique per store or per order version); with ``dedup_source`` it is the inbox key.
    ``identifiers`` come in the upstream's order of trust: the first one names a new member.
    """

    source: str
    dedup_key: str
    identifiers: tuple[Identifier, ...]
    body: Body
    # Sources that carry the same events share one dedup namespace (a POS receipt and its
    # CSV export are one purchase), so a backfill over live data doubles nothing.
    dedup_source: str = ""

    def __post_init__(self) -> None:
        if not self.identifiers:
            raise ValueError("a parsed record names at least one identifier")
        if not self.dedup_source:
            object.__setattr__(self, "dedup_source", self.source)


@dataclass(frozen=True)
class Ignored:
    """A well-formed record that carries no member signal (a menu click, a staff message): counted, not published."""

    source: str
    reason: str
    dedup_key: str = ""
