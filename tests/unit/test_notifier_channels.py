"""Channel choice: the offer's preference order, limited to the channels the chain has configured."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifier.domain.channels import Decision, decide
from shared.contracts import Channel, DeliveryStatus, MessageType, OfferIssuedV1
from tests.unit.fakes import MEMBER_ID, T0

NOW = T0 + timedelta(hours=1)


def _offer(*channels: Channel, expires_in: timedelta | None = None) -> OfferIssuedV1:
    return OfferIssuedV1(
        member_id=MEMBER_ID,
        occurred_at=T0,
        offer_id="offer-1",
        campaign_id="welcome",
        campaign_kind="greeting",
        message_type=MessageType.GREETING,
        channels=channels or (Channel.WECHAT, Channel.SMS),
        template="welcome",
        expires_at=None if expires_in is None else NOW + expires_in,
    )


@pytest.mark.parametrize(
    ("configured", "chosen"),
    [
        pytest.param({Channel.WECHAT, Channel.SMS}, Channel.WECHAT, id="both-configured-first-wins"),
        pytest.param({Channel.SMS}, Channel.SMS, id="first-missing-falls-to-second"),
        pytest.param({Channel.SMS, Channel.EMAIL, Channel.WECHAT}, Channel.WECHAT, id="configured-order-ignored"),
    ],
)
def test_the_first_configured_channel_in_the_offers_order_is_sent(configured: set[Channel], chosen: Channel) -> None:
    assert decide(_offer(Channel.WECHAT, Channel.SMS), configured, NOW) == Decision(chosen, DeliveryStatus.SENT)


def test_the_offers_preference_order_decides_not_the_configuration() -> None:
    offer = _offer(Channel.EMAIL, Channel.WEBHOOK, Channel.SMS)

    assert decide(offer, [Channel.SMS, Channel.WEBHOOK], NOW) == Decision(Channel.WEBHOOK, DeliveryStatus.SENT)


@pytest.mark.parametrize("configured", [set(), {Channel.EMAIL, Channel.WEBHOOK}], ids=["nothing", "other-channels"])
def test_an_offer_no_configured_channel_can_carry_is_suppressed(configured: set[Channel]) -> None:
    decision = decide(_offer(Channel.WECHAT, Channel.SMS), configured, NOW)

    assert decision == Decision(Channel.WECHAT, DeliveryStatus.SUPPRESSED, "channel_not_configured")


@pytest.mark.parametrize(
    "expires_in", [timedelta(0), -timedelta(seconds=1), -timedelta(days=3)], ids=["now", "just-now", "days-ago"]
)
def test_an_expired_offer_is_suppressed_even_when_a_channel_is_configured(expires_in: timedelta) -> None:
    decision = decide(_offer(Channel.SMS, Channel.WECHAT, expires_in=expires_in), {Channel.WECHAT}, NOW)

    assert decision == Decision(Channel.SMS, DeliveryStatus.SUPPRESSED, "offer_expired")


def test_an_offer_that_expires_later_is_still_sent() -> None:
    decision = decide(_offer(Channel.SMS, expires_in=timedelta(seconds=1)), {Channel.SMS}, NOW)

    assert decision == Decision(Channel.SMS, DeliveryStatus.SENT)
