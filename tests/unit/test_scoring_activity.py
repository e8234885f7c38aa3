"""Scoring's foundation rules: a member's activity and the lifecycle and engagement derived from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.scoring.domain.activity import MemberActivity, apply_event, state_changed, state_event
from shared.contracts import (
    CommunityAction,
    EngagementTier,
    Lifecycle,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
)
from tests.unit.fakes import MEMBER_ID, T0, chat_event


def _purchase(
    kind: PurchaseKind = PurchaseKind.SALE, total_minor: int = 12_900, at_minutes: int = 0
) -> MemberPurchaseV1:
    return MemberPurchaseV1(
        member_id=MEMBER_ID,
        occurred_at=T0 + timedelta(minutes=at_minutes),
        purchase_id=f"{kind.value}-{at_minutes}",
        kind=kind,
        channel=PurchaseChannel.POS,
        currency="CNY",
        lines=(PurchaseLine(sku="sku-1", qty=1, unit_price_minor=total_minor, amount_minor=total_minor),),
        total_minor=total_minor,
        original_purchase_id="sale-0" if kind is PurchaseKind.REFUND else None,
        source="pos_receipt",
        source_event_id=f"{kind.value}-{at_minutes}",
    )


def _joined(at_minutes: int = 0) -> MemberCommunityV1:
    return MemberCommunityV1(
        member_id=MEMBER_ID,
        occurred_at=T0 + timedelta(minutes=at_minutes),
        community_id="store-001-vip",
        action=CommunityAction.JOIN,
        source="chat_json",
        source_event_id=f"join-{at_minutes}",
    )


def _chatted(at_minutes: int = 0) -> MemberEvent:
    return chat_event(occurred_at=T0 + timedelta(minutes=at_minutes), source_event_id=f"chat-{at_minutes}")


def _replay(*events: MemberEvent) -> MemberActivity:
    activity: MemberActivity | None = None
    for event in events:
        activity = apply_event(activity, event)
    assert activity is not None
    return activity


def test_a_members_first_event_makes_them_new_and_silent() -> None:
    after = apply_event(None, _joined())

    assert after == MemberActivity(
        member_id=MEMBER_ID,
        first_seen_at=T0,
        last_event_at=T0,
        community_events=1,
        lifecycle=Lifecycle.NEW,
        engagement_tier=EngagementTier.SILENT,
    )


def test_a_members_first_event_is_always_a_state_change() -> None:
    assert state_changed(None, apply_event(None, _joined())) is True


def test_a_first_purchase_makes_a_member_active() -> None:
    after = _replay(_joined(), _purchase(total_minor=12_900, at_minutes=5))

    assert after.lifecycle is Lifecycle.ACTIVE
    assert (after.purchases, after.spend_minor) == (1, 12_900)


def test_purchases_add_up() -> None:
    after = _replay(_purchase(total_minor=1_000), _purchase(total_minor=2_500, at_minutes=1))

    assert (after.purchases, after.spend_minor) == (2, 3_500)


def test_a_refund_reduces_spend_but_is_not_a_purchase() -> None:
    after = _replay(_purchase(total_minor=12_900), _purchase(PurchaseKind.REFUND, total_minor=4_000, at_minutes=1))

    assert (after.purchases, after.spend_minor) == (1, 8_900)
    assert after.lifecycle is Lifecycle.ACTIVE


def test_a_refund_alone_does_not_make_a_member_active() -> None:
    after = apply_event(None, _purchase(PurchaseKind.REFUND, total_minor=4_000))

    assert after.lifecycle is Lifecycle.NEW
    assert (after.purchases, after.spend_minor) == (0, -4_000)


def test_chat_makes_a_member_a_participant() -> None:
    before = apply_event(None, _joined())

    after = apply_event(before, _chatted(at_minutes=1))

    assert after.engagement_tier is EngagementTier.PARTICIPANT
    assert after.chat_events == 1
    assert state_changed(before, after) is True


def test_joining_a_community_is_not_chatting() -> None:
    after = _replay(_joined(), _joined(at_minutes=1))

    assert after.engagement_tier is EngagementTier.SILENT
    assert (after.community_events, after.chat_events) == (2, 0)


def test_more_of_the_same_activity_is_not_a_state_change() -> None:
    before = _replay(_chatted(), _purchase(at_minutes=1))

    after = apply_event(before, _chatted(at_minutes=2))

    assert after.chat_events == 2
    assert state_changed(before, after) is False


def test_a_late_event_does_not_move_last_event_at_backwards() -> None:
    current = _replay(_joined(at_minutes=60))

    after = apply_event(current, _chatted(at_minutes=0))

    assert after.last_event_at == T0 + timedelta(minutes=60)
    assert after.first_seen_at == T0
    assert after.chat_events == 1


def test_a_newer_event_moves_last_event_at_forward_and_keeps_first_seen_at() -> None:
    after = _replay(_joined(at_minutes=0), _chatted(at_minutes=30))

    assert (after.first_seen_at, after.last_event_at) == (T0, T0 + timedelta(minutes=30))


def test_applying_an_event_leaves_the_previous_activity_and_state_version_alone() -> None:
    before = replace(apply_event(None, _joined()), state_version=3)

    after = apply_event(before, _purchase(at_minutes=1))

    assert before.lifecycle is Lifecycle.NEW
    assert before.purchases == 0
    assert after.state_version == 3


def test_the_first_state_event_says_first_seen_and_has_no_previous_lifecycle() -> None:
    after = replace(apply_event(None, _chatted(at_minutes=7)), state_version=1)

    state = state_event(None, after)

    assert state.member_id == MEMBER_ID
    assert state.occurred_at == T0 + timedelta(minutes=7)
    assert (state.lifecycle, state.engagement_tier) == (Lifecycle.NEW, EngagementTier.PARTICIPANT)
    assert state.previous_lifecycle is None
    assert state.reasons == ("first_seen",)
    assert state.state_version == 1


def test_a_later_state_event_carries_the_previous_lifecycle() -> None:
    before = replace(apply_event(None, _joined()), state_version=1)
    after = replace(apply_event(before, _purchase(at_minutes=5)), state_version=2)

    state = state_event(before, after)

    assert (state.previous_lifecycle, state.lifecycle) == (Lifecycle.NEW, Lifecycle.ACTIVE)
    assert state.reasons == ("activity",)
    assert state.state_version == 2
    assert state.occurred_at == T0 + timedelta(minutes=5)
