"""The welcome campaign: greet a member the first time scoring reports them, exactly once."""

from __future__ import annotations

import uuid

import pytest

from services.campaigns.domain.welcome import CAMPAIGN_ID, welcome_offer
from shared.contracts import Channel, EngagementTier, Lifecycle, MemberStateV1, MessageType, derived_event_id
from tests.unit.fakes import MEMBER_ID, T0


def _state(
    lifecycle: Lifecycle = Lifecycle.NEW,
    previous: Lifecycle | None = None,
    member_id: str = MEMBER_ID,
    version: int = 1,
) -> MemberStateV1:
    return MemberStateV1(
        member_id=member_id,
        occurred_at=T0,
        engagement_tier=EngagementTier.SILENT,
        lifecycle=lifecycle,
        previous_lifecycle=previous,
        reasons=("first_seen",) if previous is None else ("activity",),
        state_version=version,
    )


def test_a_members_first_new_state_yields_a_welcome_greeting() -> None:
    offer = welcome_offer(_state())

    assert offer is not None
    assert offer.member_id == MEMBER_ID
    assert offer.occurred_at == T0
    assert offer.campaign_id == CAMPAIGN_ID == "welcome"
    assert offer.campaign_kind == "greeting"
    assert offer.message_type is MessageType.GREETING
    assert offer.channels == (Channel.WECHAT, Channel.SMS)
    assert offer.template == "welcome"
    assert offer.expires_at is None


def test_the_offer_id_is_deterministic_per_member_and_campaign() -> None:
    first = welcome_offer(_state(version=1))
    replayed = welcome_offer(_state(version=1))

    assert first is not None
    assert replayed is not None
    assert first.offer_id == replayed.offer_id == derived_event_id("offer", "welcome", MEMBER_ID)
    assert uuid.UUID(first.offer_id).version == 5


def test_different_members_get_different_offer_ids() -> None:
    mine = welcome_offer(_state(member_id="m_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
    theirs = welcome_offer(_state(member_id="m_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"))

    assert mine is not None
    assert theirs is not None
    assert mine.offer_id != theirs.offer_id


@pytest.mark.parametrize(
    ("lifecycle", "previous"),
    [
        pytest.param(Lifecycle.ACTIVE, None, id="first-state-already-active"),
        pytest.param(Lifecycle.ACTIVE, Lifecycle.NEW, id="new-to-active"),
        pytest.param(Lifecycle.NEW, Lifecycle.NEW, id="still-new-after-activity"),
        pytest.param(Lifecycle.REACTIVATED, Lifecycle.DORMANT, id="reactivated"),
        pytest.param(Lifecycle.AT_RISK, Lifecycle.ACTIVE, id="at-risk"),
    ],
)
def test_no_welcome_for_any_state_but_a_first_new_one(lifecycle: Lifecycle, previous: Lifecycle | None) -> None:
    assert welcome_offer(_state(lifecycle, previous, version=2)) is None
