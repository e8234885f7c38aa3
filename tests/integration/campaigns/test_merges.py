"""An identity merge folds one person's two ids together: offers, caps, purchases and consent count once."""

from __future__ import annotations

from datetime import timedelta

from shared.contracts import Channel, Lifecycle, MemberConsentV1, MemberMergedV1
from tests.integration.campaigns.conftest import CampaignsRig
from tests.integration.campaigns.test_offers import T, lifecycle, sale, state

CAMPAIGNS = (
    lifecycle("win_back", "at_risk", priority=80),
    lifecycle("reactivation", "dormant", priority=70),
)


async def test_a_merged_id_s_offers_purchases_and_consent_become_the_survivors(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    rig.define(*CAMPAIGNS)
    rig.start()
    await rig.publish(
        [
            sale("m-new", "p-1", T - timedelta(days=30), ("sku-a", "dairy", 1_000)),
            sale("m-old", "p-2", T - timedelta(days=20), ("sku-a", "dairy", 1_000)),
            sale("m-old", "p-3", T - timedelta(days=10), ("sku-a", "dairy", 1_000)),
            MemberConsentV1(
                member_id="m-new", occurred_at=T - timedelta(days=2), channel=Channel.SMS, granted=True, source="t"
            ),
            MemberConsentV1(
                member_id="m-old", occurred_at=T - timedelta(hours=1), channel=Channel.SMS, granted=False, source="t"
            ),
            # The win-back goes to the id the person had then; it reaches them at T (noon in Shanghai).
            state("m-old", Lifecycle.AT_RISK),
        ]
    )
    await rig.wait_settled()
    assert (await rig.decisions())["m-old/win_back/state:2"]["outcome"] == "issued"

    await rig.publish(
        [MemberMergedV1(member_id="m-new", occurred_at=T + timedelta(hours=1), merged_member_id="m-old", reason="t")]
    )
    await rig.wait_settled()
    await rig.publish(
        [
            # Still in flight under the merged id when the merge was read: it is the survivor's.
            sale("m-old", "p-4", T + timedelta(hours=2), ("sku-a", "dairy", 1_000)),
            # A state of the merged id fires nothing: scoring speaks for the person under the survivor.
            state("m-old", Lifecycle.DORMANT, at=T + timedelta(hours=3), version=3, previous=Lifecycle.AT_RISK),
            # A day after the win-back reached the same person: inside the marketing cap's 48 h gap.
            state("m-new", Lifecycle.DORMANT, at=T + timedelta(days=1), previous=Lifecycle.AT_RISK),
        ]
    )
    await rig.wait_settled()

    decisions = await rig.decisions()
    assert decisions["m-new/win_back/state:2"]["outcome"] == "issued", "the offer now counts for the survivor"
    reactivation = decisions["m-new/reactivation/state:2"]
    assert (reactivation["outcome"], reactivation["reason"]) == ("suppressed", "frequency_cap")
    assert not [key for key in decisions if key.startswith("m-old/")], "nothing is left under the merged id"

    [member] = await rig.fetch("SELECT * FROM members WHERE member_id = 'm-new'")
    assert member["purchases"] == 4
    assert (member["first_purchase_at"], member["last_purchase_at"]) == (T - timedelta(days=30), T + timedelta(hours=2))
    assert not await rig.fetch("SELECT 1 FROM members WHERE member_id = 'm-old'")
    consents = {r["channel"]: r["granted"] for r in await rig.fetch("SELECT * FROM consents WHERE member_id = 'm-new'")}
    assert consents == {"sms": False}, "the later statement, made under the merged id, holds"
    [pointer] = await rig.fetch("SELECT survivor FROM merged_members WHERE merged_id = 'm-old'")
    assert pointer["survivor"] == "m-new"
