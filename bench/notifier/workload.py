"""What the bench sends: contacts with a phone each, and greeting offers (SMS, template ``welcome``) for them."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notifier.adapters import contact_repository
from services.notifier.domain.messages import Contact
from shared.contracts import Channel, KafkaRecord, MessageType, OfferIssuedV1, wrap
from shared.contracts.topics import OFFER_ISSUED

CHUNK = 5_000


def member_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:07d}" for n in range(count)]


async def add_contacts(dsn: str, members: list[str]) -> None:
    """One contact per member, a distinct valid E.164 number each (the sink checks E.164)."""
    conn = await asyncpg.connect(dsn)
    try:
        for start in range(0, len(members), CHUNK):
            chunk = members[start : start + CHUNK]
            contacts = [Contact(m, phone=f"+8613{start + n:09d}") for n, m in enumerate(chunk)]
            await contact_repository.upsert_contacts(conn, contacts)
    finally:
        await conn.close()


def offer_record(member_id: str) -> tuple[str, KafkaRecord]:
    """(idempotency key the sink will see, the offer's record): one offer per member, offer id ``o-<member>``."""
    offer = OfferIssuedV1(
        member_id=member_id,
        occurred_at=datetime.now(UTC),
        offer_id=f"o-{member_id}",
        campaign_id="bench_welcome",
        campaign_kind="lifecycle_entered",
        message_type=MessageType.GREETING,
        channels=(Channel.SMS,),
        template="welcome",
        locale="zh-CN",
    )
    return f"{offer.offer_id}:{Channel.SMS.value}", wrap(offer, topic=OFFER_ISSUED.name, source="bench")
