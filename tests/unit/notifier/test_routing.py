"""Channel choice: preference order, then configuration, then consent (marketing only), then contact points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifier.domain.messages import Contact
from services.notifier.domain.routing import Route, is_deferred, next_channel, route, send_at
from shared.contracts import Channel, MessageType, OfferIssuedV1

SMS, WECHAT, EMAIL, WEBHOOK = Channel.SMS, Channel.WECHAT, Channel.EMAIL, Channel.WEBHOOK
ALL = frozenset(Channel)
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
MEMBER = "m-1"


def offer(*channels: Channel, **overrides: Any) -> OfferIssuedV1:
    fields: dict[str, Any] = {
        "member_id": MEMBER,
        "occurred_at": NOW - timedelta(minutes=1),
        "offer_id": "offer-1",
        "campaign_id": "spring_sale",
        "campaign_kind": "marketing",
        "message_type": MessageType.MARKETING,
        "channels": channels or (WECHAT, SMS),
        "template": "spring_sale",
    }
    fields.update(overrides)
    return OfferIssuedV1(**fields)


def reachable_everywhere(member_id: str = MEMBER, **overrides: Any) -> Contact:
    fields: dict[str, Any] = {
        "phone": "+8613800000000",
        "email": "member@example.com",
        "wechat_openid": "o-openid",
        "app_user_id": "app-1",
    }
    fields.update(overrides)
    return Contact(member_id, **fields)


def choose(o: OfferIssuedV1, **kw: Any) -> Route:
    args: dict[str, Any] = {"configured": ALL, "opted_out": (), "contact": reachable_everywhere(), "now": NOW}
    args.update(kw)
    return route(o, **args)


# -- preference order ------------------------------------------------------------------------------


def test_every_usable_channel_is_kept_in_the_offers_order_of_preference() -> None:
    assert choose(offer(EMAIL, WEBHOOK, SMS)) == Route((EMAIL, WEBHOOK, SMS))


def test_the_first_usable_channel_is_tried_first() -> None:
    assert choose(offer(WECHAT, SMS)).first is WECHAT


def test_the_configuration_order_does_not_change_the_offers_order() -> None:
    assert choose(offer(WECHAT, SMS), configured=[SMS, EMAIL, WECHAT]).channels == (WECHAT, SMS)


def test_a_channel_the_offer_names_twice_is_routed_once() -> None:
    assert choose(offer(SMS, WECHAT, SMS)).channels == (SMS, WECHAT)


# -- configuration ---------------------------------------------------------------------------------


def test_channels_the_chain_has_not_configured_are_left_out() -> None:
    assert choose(offer(WECHAT, SMS, EMAIL), configured={SMS}).channels == (SMS,)


@pytest.mark.parametrize("configured", [set(), {EMAIL, WEBHOOK}], ids=["nothing", "other-channels"])
def test_an_offer_no_configured_channel_can_carry_is_suppressed_as_not_configured(configured: set[Channel]) -> None:
    assert choose(offer(WECHAT, SMS), configured=configured) == Route((), "channel_not_configured")


# -- consent ---------------------------------------------------------------------------------------


def test_marketing_skips_the_channels_the_member_opted_out_of() -> None:
    assert choose(offer(WECHAT, SMS, EMAIL), opted_out={WECHAT, EMAIL}).channels == (SMS,)


def test_marketing_to_a_member_opted_out_of_every_offered_channel_is_suppressed_for_consent() -> None:
    assert choose(offer(WECHAT, SMS), opted_out={WECHAT, SMS}) == Route((), "no_consent")


@pytest.mark.parametrize("kind", [MessageType.GREETING, MessageType.NOTIFICATION, MessageType.NARRATIVE])
def test_only_marketing_needs_consent_other_messages_go_to_opted_out_channels(kind: MessageType) -> None:
    assert choose(offer(WECHAT, SMS, message_type=kind), opted_out={WECHAT, SMS}).channels == (WECHAT, SMS)


def test_opting_out_of_a_channel_the_offer_does_not_use_changes_nothing() -> None:
    assert choose(offer(WECHAT, SMS), opted_out={EMAIL}).channels == (WECHAT, SMS)


# -- contact points --------------------------------------------------------------------------------


def test_channels_without_a_contact_point_are_left_out() -> None:
    contact = reachable_everywhere(wechat_openid=None, email=None)

    assert choose(offer(WECHAT, EMAIL, SMS), contact=contact).channels == (SMS,)


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "whitespace"])
def test_a_blank_address_is_no_contact_point(blank: str) -> None:
    assert choose(offer(SMS), contact=reachable_everywhere(phone=blank)) == Route((), "no_contact_point")


def test_a_member_with_no_known_contact_is_suppressed_for_no_contact_point() -> None:
    assert choose(offer(WECHAT, SMS), contact=None) == Route((), "no_contact_point")


@pytest.mark.parametrize(
    ("channel", "field"),
    [(SMS, "phone"), (EMAIL, "email"), (WECHAT, "wechat_openid"), (WEBHOOK, "app_user_id")],
)
def test_each_channel_is_reached_through_its_own_contact_point(channel: Channel, field: str) -> None:
    only = Contact(MEMBER, **{field: "address"})

    assert choose(offer(*Channel), contact=only).channels == (channel,)


def test_a_contact_of_another_member_is_refused() -> None:
    with pytest.raises(ValueError, match="m-2"):
        choose(offer(SMS), contact=reachable_everywhere("m-2"))


# -- the reason names the first check that emptied the list ----------------------------------------


@pytest.mark.parametrize("expires_in", [timedelta(0), -timedelta(seconds=1), -timedelta(days=3)])
def test_an_expired_offer_is_suppressed_before_anything_else_is_checked(expires_in: timedelta) -> None:
    expired = offer(SMS, expires_at=NOW + expires_in)

    assert choose(expired, configured=(), opted_out={SMS}, contact=None) == Route((), "offer_expired")


def test_an_offer_that_expires_later_is_still_routed() -> None:
    assert choose(offer(SMS, expires_at=NOW + timedelta(seconds=1))).channels == (SMS,)


def test_not_configured_is_reported_before_consent_and_contact() -> None:
    assert choose(offer(SMS), configured={WECHAT}, opted_out={SMS}, contact=None).suppressed == "channel_not_configured"


def test_consent_is_reported_before_contact_points() -> None:
    assert choose(offer(SMS, WECHAT), opted_out={SMS, WECHAT}, contact=None).suppressed == "no_consent"


def test_consent_is_judged_only_on_configured_channels() -> None:
    # WECHAT is consented but not configured; SMS is configured but opted out: consent is what emptied the list.
    assert choose(offer(WECHAT, SMS), configured={SMS}, opted_out={SMS}).suppressed == "no_consent"


def test_contact_points_are_judged_only_on_consented_channels() -> None:
    contact = reachable_everywhere(phone=None)

    assert choose(offer(WECHAT, SMS), opted_out={WECHAT}, contact=contact).suppressed == "no_contact_point"


def test_a_route_has_channels_or_a_reason_never_both() -> None:
    with pytest.raises(ValueError, match="never both"):
        Route((SMS,), "no_consent")
    with pytest.raises(ValueError, match="never both"):
        Route(())


# -- fallback on permanent failure -----------------------------------------------------------------


def test_a_permanent_failure_falls_back_to_the_next_channel() -> None:
    assert next_channel((WECHAT, SMS, EMAIL), WECHAT) is SMS
    assert next_channel((WECHAT, SMS, EMAIL), SMS) is EMAIL


def test_a_permanent_failure_on_the_last_channel_has_no_fallback() -> None:
    assert next_channel((WECHAT, SMS), SMS) is None


def test_a_failed_channel_outside_the_route_has_no_fallback() -> None:
    assert next_channel((WECHAT, SMS), EMAIL) is None


def test_the_fallback_follows_the_route_not_the_offer() -> None:
    # The offer preferred EMAIL between WECHAT and SMS, but the member has no email address.
    usable = choose(offer(WECHAT, EMAIL, SMS), contact=reachable_everywhere(email=None)).channels

    assert next_channel(usable, WECHAT) is SMS


# -- deferral for quiet hours ----------------------------------------------------------------------


def test_an_offer_without_deliver_after_goes_now() -> None:
    assert send_at(offer(), NOW) == NOW
    assert not is_deferred(offer(), NOW)


def test_an_offer_due_later_is_deferred_to_its_deliver_after() -> None:
    later = NOW + timedelta(hours=5)

    assert send_at(offer(deliver_after=later), NOW) == later
    assert is_deferred(offer(deliver_after=later), NOW)


@pytest.mark.parametrize("ago", [timedelta(0), timedelta(hours=1)], ids=["exactly-now", "in-the-past"])
def test_an_offer_whose_deliver_after_has_come_goes_now(ago: timedelta) -> None:
    due = offer(deliver_after=NOW - ago)

    assert send_at(due, NOW) == NOW
    assert not is_deferred(due, NOW)
