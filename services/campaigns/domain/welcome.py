"""The foundation's one campaign: greet a member the first time scoring reports them.

It proves the path state → offer → message end to end; the campaigns issue replaces it
with campaigns defined as data (win-back, cross-sell, up-sell, replenishment, ...).
"""

from __future__ import annotations

from shared.contracts import Channel, Lifecycle, MemberStateV1, MessageType, OfferIssuedV1, derived_event_id

CAMPAIGN_ID = "welcome"


def welcome_offer(state: MemberStateV1) -> OfferIssuedV1 | None:
    if state.lifecycle is not Lifecycle.NEW or state.previous_lifecycle is not None:
        return None
    return OfferIssuedV1(
        member_id=state.member_id,
        occurred_at=state.occurred_at,
        offer_id=derived_event_id("offer", CAMPAIGN_ID, state.member_id),
        campaign_id=CAMPAIGN_ID,
        campaign_kind="greeting",
        message_type=MessageType.GREETING,
        channels=(Channel.WECHAT, Channel.SMS),
        template="welcome",
    )
