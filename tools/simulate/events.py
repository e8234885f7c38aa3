"""What happens, before it is written in any upstream's format: the simulator's own event drafts.

Drafts refer to each other (a return to its sale, a reply to its message); upstream ids are
assigned in event-time order when they are rendered, so ids read like a real system's counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.simulate.chain import Community
from tools.simulate.people import Person


@dataclass(eq=False, kw_only=True)
class Draft:
    t: int  # seconds from the start of history
    person: Person
    ref: str = ""  # the upstream event id, set when rendered


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    qty: int
    unit_price_minor: int
    discount_minor: int = 0

    @property
    def amount_minor(self) -> int:
        return self.qty * self.unit_price_minor - self.discount_minor


@dataclass(eq=False, kw_only=True)
class Receipt(Draft):
    store_id: str
    timezone: str  # the zone ingest reads the local time in (the default zone for an unregistered store)
    till: str  # "pos" or "csv"
    lines: tuple[Line, ...]
    kind: str = "sale"  # or "return"
    original: Receipt | None = None
    with_phone: bool = False
    receipt_id: str = ""


@dataclass(eq=False)
class WebOrder:
    paid_t: int
    lines: tuple[Line, ...]
    order_id: str = ""


@dataclass(eq=False, kw_only=True)
class OrderVersion(Draft):
    order: WebOrder
    version: int = 1
    status: str = "paid"  # paid | partially_refunded | refunded
    refund: tuple[tuple[str, int], ...] = ()  # cumulative (sku, units)
    refund_minor: int = 0


@dataclass(eq=False, kw_only=True)
class AppChat(Draft):
    """A chat_json event from the chain's app community, sent as the member's card number."""

    community: Community
    kind: str  # text | image | reply | reaction | topic | edit | recall | join | leave
    text: str = ""
    target: AppChat | None = None  # replied or reacted to, edited or recalled
    planted: str = ""  # "complaint" or "interest:<category>"


@dataclass(eq=False, kw_only=True)
class OaPush(Draft):
    """A WeChat official-account push: subscribe, unsubscribe, text, or a menu CLICK (ignored by ingest)."""

    kind: str
    text: str = ""


@dataclass(eq=False, kw_only=True)
class WecomMessage(Draft):
    """A WeCom chat-archive record in a store's customer group; staff messages are ignored by ingest."""

    room: str
    sender: str
    msgtype: str  # text | emotion | image | revoke
    text: str = ""
    target: WecomMessage | None = None
    staff: bool = False


@dataclass(frozen=True)
class Burst:
    """Members of one community asking about one category within hours: the community-interest trigger."""

    community_id: str
    category: str
    first_t: int  # seconds from the start of history
    members: tuple[str, ...]  # card numbers
