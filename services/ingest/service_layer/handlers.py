"""Applying a batch of normalised events: record identities, publish canonical events."""

from __future__ import annotations

from collections.abc import Sequence

from services.ingest.domain.normalise import CanonicalEvent
from shared.contracts import MemberChatV1, wrap
from shared.contracts.topics import MEMBER_CHAT, MEMBER_COMMUNITY
from shared.kafka.records import Decoded, UnitOfWork

SOURCE = "memberpulse/ingest"


async def publish_canonical(uow: UnitOfWork, batch: Sequence[Decoded[CanonicalEvent]]) -> None:
    seen: dict[str, Decoded[CanonicalEvent]] = {}
    for item in batch:
        event = item.payload
        topic = MEMBER_CHAT.name if isinstance(event, MemberChatV1) else MEMBER_COMMUNITY.name
        uow.publish(wrap(event, topic=topic, source=SOURCE, event_id=item.event_id))
        seen.setdefault(event.member_id, item)
    await uow.conn.executemany(
        """INSERT INTO member_identities (member_id, first_source, first_seen_at, last_seen_at)
           VALUES ($1, $2, $3, $3)
           ON CONFLICT (member_id) DO UPDATE
           SET last_seen_at = greatest(member_identities.last_seen_at, excluded.last_seen_at)""",
        [(member_id, item.payload.source, item.payload.occurred_at) for member_id, item in seen.items()],
    )
