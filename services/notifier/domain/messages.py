"""What the notifier sends and what a provider answers: plain values shared by the rules and the adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from shared.contracts import Channel, MessageType


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Failure:
    """A send that did not go through; ``code`` is short and machine-readable (``http_503``, ``timeout``)."""

    kind: FailureKind
    code: str
    message: str = ""
    # From a Retry-After header (429/503): the provider's own word beats our backoff schedule.
    retry_after_s: float | None = None

    @property
    def transient(self) -> bool:
        return self.kind is FailureKind.TRANSIENT


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str


SendResult = Accepted | Failure


@dataclass(frozen=True)
class Contact:
    """Where a member can be reached; raw contact points live only in the notifier's schema."""

    member_id: str
    phone: str | None = None
    email: str | None = None
    wechat_openid: str | None = None
    app_user_id: str | None = None
    # Overrides the offer's locale when set: the member's own choice beats the campaign's.
    locale: str | None = None
    time_zone: str | None = None

    def address(self, channel: Channel) -> str | None:
        match channel:
            case Channel.SMS:
                return self.phone
            case Channel.EMAIL:
                return self.email
            case Channel.WECHAT:
                return self.wechat_openid
            case Channel.WEBHOOK:
                return self.app_user_id


@dataclass(frozen=True)
class RenderedMessage:
    """What a channel adapter sends: already rendered, already addressed."""

    channel: Channel
    to: str
    locale: str
    text: str
    subject: str = ""
    html: str | None = None
    # f"{offer_id}:{channel}": providers that accept an idempotency key get it, so a resend after a crash is one send.
    idempotency_key: str = ""
    unsubscribe_url: str | None = None
    message_type: MessageType = MessageType.NOTIFICATION
    direction: str = "ltr"
    data: Mapping[str, str] = field(default_factory=dict)
