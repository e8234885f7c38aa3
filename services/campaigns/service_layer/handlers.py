"""Applying member state changes: issue the offers they trigger, each at most once."""

from __future__ import annotations

from collections.abc import Sequence

from services.campaigns.domain.welcome import welcome_offer
from shared.contracts import MemberStateV1, wrap
from shared.contracts.topics import OFFER_ISSUED
from shared.kafka.records import Decoded, UnitOfWork

SOURCE = "memberpulse/campaigns"


async def issue_offers(uow: UnitOfWork, batch: Sequence[Decoded[MemberStateV1]]) -> None:
    offers = [offer for item in batch if (offer := welcome_offer(item.payload)) is not None]
    if not offers:
        return
    inserted = await uow.conn.fetch(
        """INSERT INTO offers (offer_id, member_id, campaign_id, issued_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
           ON CONFLICT (offer_id) DO NOTHING RETURNING offer_id""",
        [o.offer_id for o in offers],
        [o.member_id for o in offers],
        [o.campaign_id for o in offers],
        [o.occurred_at for o in offers],
    )
    new_ids = {row["offer_id"] for row in inserted}
    for offer in offers:
        if offer.offer_id in new_ids:
            uow.publish(wrap(offer, topic=OFFER_ISSUED.name, source=SOURCE, event_id=offer.offer_id))
