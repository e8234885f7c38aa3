"""campaigns as a process: triggers become offers, every guard leaves its reason, nothing is issued twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.contracts import (
    Channel,
    ChatKind,
    DeliveryStatus,
    EngagementTier,
    Lifecycle,
    MemberChatV1,
    MemberConsentV1,
    MemberPurchaseV1,
    MemberStateV1,
    NotificationStatusV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
    ValueTier,
    derived_event_id,
)
from tests.integration.campaigns.conftest import TOKEN, CampaignsRig

# 12:00 in Shanghai, the default member zone.
T = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def lifecycle(campaign_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "name": campaign_id,
        "trigger": {"kind": "lifecycle_entered", "lifecycle": state},
        "offer": {"template": campaign_id},
        "channels": ["wechat", "sms"],
        "holdout_pct": 0,
        **extra,
    }


CAMPAIGNS = (
    lifecycle("win_back", "at_risk", priority=80, value_basis="value_at_risk", cooldown_days=30),
    lifecycle("vip_care", "at_risk", priority=90, audience={"value_tier": ["vip"]}),
    lifecycle("reactivation", "dormant", priority=70),
    {
        "id": "cross_sell",
        "name": "cross sell",
        "trigger": {"kind": "cross_sell"},
        "offer": {"template": "cross_sell"},
        "channels": ["wechat"],
        "holdout_pct": 0,
        "priority": 40,
    },
    {
        "id": "circle",
        "name": "circle",
        "trigger": {"kind": "community_interest", "keywords": {"baby_formula": ["奶粉", "formula"]}, "min_members": 2},
        "offer": {"template": "community_offer"},
        "channels": ["wechat"],
        "message_type": "notification",
        "holdout_pct": 0,
    },
)


def state(member_id: str, to: Lifecycle, at: datetime = T, version: int = 2, **extra: Any) -> MemberStateV1:
    return MemberStateV1(
        member_id=member_id,
        occurred_at=at,
        engagement_tier=extra.pop("tier", EngagementTier.PARTICIPANT),
        lifecycle=to,
        previous_lifecycle=extra.pop("previous", Lifecycle.ACTIVE),
        state_version=version,
        **extra,
    )


def sale(member_id: str, purchase_id: str, at: datetime, *lines: tuple[str, str, int]) -> MemberPurchaseV1:
    return MemberPurchaseV1(
        member_id=member_id,
        occurred_at=at,
        purchase_id=purchase_id,
        kind=PurchaseKind.SALE,
        channel=PurchaseChannel.POS,
        currency="CNY",
        lines=tuple(
            PurchaseLine(sku=sku, category=category, qty=1, unit_price_minor=amount, amount_minor=amount)
            for sku, category, amount in lines
        ),
        total_minor=sum(amount for _, _, amount in lines),
        source="test",
        source_event_id=purchase_id,
    )


def refund(
    member_id: str, purchase_id: str, original: str, at: datetime, *lines: tuple[str, str, int]
) -> MemberPurchaseV1:
    return sale(member_id, purchase_id, at, *lines).model_copy(
        update={"kind": PurchaseKind.REFUND, "original_purchase_id": original}
    )


def chat(member_id: str, text: str, at: datetime) -> MemberChatV1:
    return MemberChatV1(
        member_id=member_id,
        occurred_at=at,
        community_id="grp-1",
        kind=ChatKind.MESSAGE,
        text=text,
        source="test",
        source_event_id=f"{member_id}-{at.isoformat()}",
    )


async def test_triggers_become_offers_and_every_guard_records_its_reason(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    rig.define(*CAMPAIGNS)
    [service] = rig.start()
    await rig.publish(
        [
            MemberConsentV1(
                member_id="m-optout", occurred_at=T - timedelta(hours=1), channel=c, granted=False, source="t"
            )
            for c in (Channel.SMS, Channel.WECHAT)
        ]
    )
    await rig.wait_settled()
    members_of_group = [
        state(m, Lifecycle.ACTIVE, at=T - timedelta(days=1), previous=Lifecycle.NEW, communities=("grp-1",), tier=tier)
        for m, tier in (
            ("c-1", EngagementTier.ACTIVE),
            ("c-2", EngagementTier.PARTICIPANT),
            ("c-3", EngagementTier.LURKER),
        )
    ]
    await rig.publish(
        [
            *members_of_group,
            state("m-optout", Lifecycle.AT_RISK),
            state("m-win", Lifecycle.AT_RISK, value_at_risk_minor=500_000),
            state("m-vip", Lifecycle.AT_RISK, value_tier=ValueTier.VIP),
            # 23:00 in Shanghai: quiet hours.
            state("m-night", Lifecycle.DORMANT, at=T + timedelta(hours=11), previous=Lifecycle.AT_RISK),
            sale("m-buy", "p-1", T, ("sku-d1", "diapers", 12_000)),
        ]
    )
    await rig.wait_settled()
    win_back_offer = derived_event_id("offer", "win_back", "m-win", "state:2")
    await rig.publish(
        [
            NotificationStatusV1(
                member_id="m-win",
                occurred_at=T,
                offer_id=win_back_offer,
                channel=Channel.WECHAT,
                status=DeliveryStatus.DELIVERED,
            ),
            sale("m-buy", "p-2", T + timedelta(days=2), ("sku-w9", "baby_wipes", 2_500), ("sku-x", "snacks", 900)),
            chat("c-1", "这个奶粉哪里有？", T),
            chat("c-2", "Which formula do you use?", T + timedelta(minutes=5)),
            # Redelivered upstream with a new event id: the same trigger occurrence issues nothing new.
            state("m-win", Lifecycle.AT_RISK, value_at_risk_minor=500_000),
        ]
    )
    await rig.wait_settled()

    decisions = await rig.decisions()
    outcome = {key: (row["outcome"], row["reason"]) for key, row in decisions.items()}
    assert outcome["m-win/win_back/state:2"] == ("issued", None)
    assert outcome["m-optout/win_back/state:2"] == ("suppressed", "no_consent")
    assert outcome["m-vip/vip_care/state:2"] == ("issued", None)
    assert outcome["m-vip/win_back/state:2"] == ("suppressed", "lost_arbitration")
    assert outcome["m-night/reactivation/state:2"] == ("issued", None)
    assert outcome["m-buy/cross_sell/purchase:p-1"] == ("issued", None)
    circle = sorted(k for k in outcome if "/circle/" in k)
    assert [k.split("/")[0] for k in circle] == ["c-1", "c-2"], "engaged members only: the lurker c-3 is left out"

    cross = decisions["m-buy/cross_sell/purchase:p-1"]
    assert cross["category"] == "baby_wipes", "the configured pair while data is thin"
    assert cross["converted_at"] == T + timedelta(days=2)
    assert cross["revenue_minor"] == 2_500, "only the offered category's line counts"
    assert decisions["m-win/win_back/state:2"]["delivered_at"] is not None

    offers = await rig.offers()
    assert len(offers) == len({o["offer_id"] for o in offers}), "no offer published twice"
    issued = {row["offer_id"] for row in decisions.values() if row["outcome"] == "issued"}
    assert {o["offer_id"] for o in offers} == issued
    night = next(o for o in offers if o["campaign_id"] == "reactivation")
    assert datetime.fromisoformat(night["deliver_after"]) == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)

    async with httpx.AsyncClient(base_url=service.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        report = (await client.get("/v1/campaigns/win_back/report")).json()
    assert report["issued"] == 1
    assert report["suppressed_by_reason"] == {"lost_arbitration": 1, "no_consent": 1}
    assert report["delivered"] == 1

    # Refunds of the converting purchase p-2: the snacks line is not what converted, so returning it
    # changes nothing; returning part of the wipes takes that much back; returning the rest withdraws
    # the conversion.
    await rig.publish([refund("m-buy", "r-1", "p-2", T + timedelta(days=3), ("sku-x", "snacks", 900))])
    await rig.wait_settled()
    cross = (await rig.decisions())["m-buy/cross_sell/purchase:p-1"]
    assert (cross["revenue_minor"], cross["refunded_minor"]) == (2_500, 0)
    await rig.publish([refund("m-buy", "r-2", "p-2", T + timedelta(days=3), ("sku-w9", "baby_wipes", 1_000))])
    await rig.wait_settled()
    cross = (await rig.decisions())["m-buy/cross_sell/purchase:p-1"]
    assert (cross["revenue_minor"], cross["refunded_minor"]) == (2_500, 1_000)
    async with httpx.AsyncClient(base_url=service.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        report = (await client.get("/v1/campaigns/cross_sell/report")).json()
    assert report["converted"]["treated"] == 1
    assert report["revenue_minor"]["treated"] == 1_500, "net of the refund"
    await rig.publish([refund("m-buy", "r-3", "p-2", T + timedelta(days=4), ("sku-w9", "baby_wipes", 1_500))])
    await rig.wait_settled()
    cross = (await rig.decisions())["m-buy/cross_sell/purchase:p-1"]
    assert cross["converted_at"] is None, "refunded in full: the conversion is withdrawn"
    assert (cross["revenue_minor"], cross["refunded_minor"], cross["conversion_purchase_id"]) == (None, 0, None)
    async with httpx.AsyncClient(base_url=service.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        report = (await client.get("/v1/campaigns/cross_sell/report")).json()
    assert report["converted"]["treated"] == 0
    assert report["revenue_minor"]["treated"] == 0


async def test_circle_marketing_fires_when_the_earlier_mention_arrives_last(campaigns_rig: CampaignsRig):
    # Chats from two partitions may arrive in either order; the firing must not depend on it.
    rig = campaigns_rig
    rig.define(*CAMPAIGNS)
    rig.start()
    await rig.publish(
        [
            state(m, Lifecycle.ACTIVE, at=T - timedelta(days=1), previous=Lifecycle.NEW, communities=("grp-1",))
            for m in ("c-1", "c-2")
        ]
    )
    await rig.wait_settled()
    await rig.publish([chat("c-2", "Which formula do you use?", T + timedelta(minutes=5))])
    await rig.wait_settled()
    assert not [k for k in await rig.decisions() if "/circle/" in k], "one member asking is not enough"

    await rig.publish([chat("c-1", "这个奶粉哪里有？", T)])
    await rig.wait_settled()

    circle = sorted(k for k in await rig.decisions() if "/circle/" in k)
    moment = (T + timedelta(minutes=5)).isoformat()
    assert circle == [f"{m}/circle/community:grp-1:baby_formula:{moment}" for m in ("c-1", "c-2")]


async def test_circle_marketing_looks_at_a_moment_only_once_the_whole_group_is_complete_up_to_it(
    campaigns_rig: CampaignsRig,
):
    # Another replica's partition is behind: an earlier question may still be waiting there.
    rig = campaigns_rig
    rig.define(*CAMPAIGNS)
    await rig.another_replica_complete_until(T - timedelta(days=1))
    rig.start()
    members = ("c-1", "c-2", "c-3")
    await rig.publish(
        [
            state(m, Lifecycle.ACTIVE, at=T - timedelta(days=2), previous=Lifecycle.NEW, communities=("grp-1",))
            for m in members
        ]
    )
    await rig.publish([chat("c-2", "Which formula do you use?", T + timedelta(minutes=5))])
    await rig.publish([chat("c-3", "奶粉 again?", T + timedelta(minutes=10))])
    # Read ahead of the group: c-3 drifts to lurker an hour later, which is not yet so at the moment.
    later = T + timedelta(hours=1)
    await rig.publish(
        [state("c-3", Lifecycle.ACTIVE, at=later, version=3, tier=EngagementTier.LURKER, communities=("grp-1",))]
    )
    await rig.wait_settled()
    await asyncio.sleep(1.0)  # the timer job looks every 0.2 s
    assert not [k for k in await rig.decisions() if "/circle/" in k], "two asked, but the group is not there yet"

    await rig.publish([chat("c-1", "这个奶粉哪里有？", T)])  # what the other replica held
    await rig.another_replica_complete_until(T + timedelta(days=1))
    for _ in range(50):
        if circle := sorted(k for k in await rig.decisions() if "/circle/" in k):
            break
        await asyncio.sleep(0.2)
    moment = (T + timedelta(minutes=5)).isoformat()
    assert circle == [f"{m}/circle/community:grp-1:baby_formula:{moment}" for m in members], (
        "the second asker in the window is c-2, at T + 5 minutes, whatever order the questions came in; "
        "c-3 was engaged then"
    )
