"""In-memory stand-ins shared by the unit tests: no broker, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.contracts import ChatKind, MemberChatV1

MEMBER_ID = "m_0123456789abcdef0123456789abcdef"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeRecord:
    """The parts of an aiokafka ConsumerRecord the plumbing reads (satisfies ``RawRecord``)."""

    topic: str = "member.chat.v1"
    partition: int = 0
    offset: int = 0
    timestamp: int = 1_714_564_800_000
    key: bytes | None = None
    value: bytes | None = None
    headers: Any = field(default_factory=list)


def chat_event(
    *, member_id: str = MEMBER_ID, text: str = "hello", occurred_at: datetime = T0, source_event_id: str = "evt-1"
) -> MemberChatV1:
    return MemberChatV1(
        member_id=member_id,
        occurred_at=occurred_at,
        community_id="community-1",
        kind=ChatKind.MESSAGE,
        text=text,
        source="chat_json",
        source_event_id=source_event_id,
    )
