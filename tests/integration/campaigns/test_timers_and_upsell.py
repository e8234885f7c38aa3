"""Event-time timers (replenishment, queued offers) and up-sell from the catalog, in the real process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from shared.contracts import Lifecycle
from tests.integration.campaigns.conftest import CampaignsRig
from tests.integration.campaigns.test_offers import T, lifecycle, sale, state

REPLENISH = {
    "id": "replenish",
    "name": "replenish",
    "trigger": {"kind": "replenishment", "cadence_factor": 1.0, "min_purchases": 2},
    "offer": {"template": "replenishment"},
    "channels": ["sms"],
    "holdout_pct": 0,
    "cooldown_days": 0,
    "deferrable": True,
    "priority": 50,
}
UP_SELL = {
    "id": "up_sell",
    "name": "up sell",
    "trigger": {"kind": "up_sell", "min_line_amount_minor": 1_000},
    "offer": {"template": "up_sell"},
    "channels": ["wechat"],
    "holdout_pct": 0,
    "cooldown_days": 0,
}


async def test_a_replenishment_reminder_capped_by_a_recent_message_waits_for_its_slot(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    rig.define(REPLENISH, lifecycle("win_back", "at_risk", channels=["sms"], cooldown_days=0))
    # Buys every ten days, so the next purchase is due at T; a win-back message went out the day before.
    await rig.publish([sale("m-r", "p-1", T - timedelta(days=20), ("milk", "dairy", 500))])
    await rig.publish([sale("m-r", "p-2", T - timedelta(days=10), ("milk", "dairy", 500))])
    await rig.publish([state("m-r", Lifecycle.AT_RISK, at=T - timedelta(days=1))])
    rig.start()
    await rig.wait_settled()
    # Time moves on only with events: another member's event three days later passes both dates.
    await rig.publish([state("someone-else", Lifecycle.ACTIVE, at=T + timedelta(days=3))])
    await rig.wait_settled()
    for _ in range(50):  # the batch after the watermark moved, or the timer job, releases it
        decisions = await rig.decisions()
        if (
            decisions.get("m-r/replenish/replenish:" + (T - timedelta(days=10)).isoformat(), {}).get("outcome")
            == "issued"
        ):
            break
        await rig.wait_settled()
    reminder = decisions["m-r/replenish/replenish:" + (T - timedelta(days=10)).isoformat()]
    assert reminder["outcome"] == "issued"
    assert reminder["deliver_at"] == T - timedelta(days=1) + timedelta(hours=48), "two days after the win-back"
    [offer] = [o for o in await rig.offers() if o["campaign_id"] == "replenish"]
    assert offer["deliver_after"] is not None


async def test_up_sell_offers_the_next_price_tier_from_the_catalog(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    rig.define(UP_SELL)
    conn_rows = [("milk-1", "dairy", 1), ("milk-2", "dairy", 2), ("milk-3", "dairy", 3)]
    for sku, category, tier in conn_rows:
        await rig.fetch(
            "INSERT INTO products (sku, name, category, price_tier) VALUES ($1, $1, $2, $3)", sku, category, tier
        )
    rig.start()
    await rig.publish(
        [
            sale("m-up", "p-1", T, ("milk-1", "dairy", 1_200)),
            sale("m-small", "p-2", T, ("milk-1", "dairy", 300)),
        ]
    )
    await rig.wait_settled()
    decisions = await rig.decisions()
    assert decisions["m-up/up_sell/purchase:p-1"]["sku"] == "milk-2"
    assert "m-small/up_sell/purchase:p-2" not in decisions, "a small line does not show the spend to move up"


REPLENISH_NOW = {**REPLENISH, "deferrable": False}


async def _due_at_t_with_the_group_behind(rig: CampaignsRig) -> CampaignsRig:
    """A member who buys every ten days, due at T; another replica's partition complete to T - 5 days."""
    rig.define(REPLENISH_NOW)
    await rig.publish([sale("m-r", "p-1", T - timedelta(days=20), ("milk", "dairy", 500))])
    await rig.publish([sale("m-r", "p-2", T - timedelta(days=10), ("milk", "dairy", 500))])
    await rig.another_replica_complete_until(T - timedelta(days=5))
    rig.start()
    return rig


async def test_a_replenishment_waits_for_the_slowest_partition_of_the_group_not_this_replica_s(
    campaigns_rig: CampaignsRig,
):
    rig = await _due_at_t_with_the_group_behind(campaigns_rig)
    # This replica reads on to T + 3 days, but another's partition is complete only to T - 5 days:
    # a sale of this member's may still be waiting there.
    await rig.publish([state("someone-else", Lifecycle.ACTIVE, at=T + timedelta(days=3))])
    await rig.wait_settled()
    await asyncio.sleep(1.0)  # the timer job runs every 0.2 s
    key = "m-r/replenish/replenish:" + (T - timedelta(days=10)).isoformat()
    assert key not in await rig.decisions(), "the group's clock is the slowest partition's"
    await rig.another_replica_complete_until(T + timedelta(days=3))  # the other replica caught up
    for _ in range(50):
        if key in (decisions := await rig.decisions()):
            break
        await asyncio.sleep(0.2)
    assert decisions[key]["outcome"] == "issued"
    assert decisions[key]["decided_at"] == T


async def test_a_replenishment_due_before_the_member_s_next_sale_fires_however_far_behind_the_group_is(
    campaigns_rig: CampaignsRig,
):
    rig = await _due_at_t_with_the_group_behind(campaigns_rig)
    await rig.wait_settled()
    # Their own partition holds everything of theirs up to this sale: the date before it passed.
    await rig.publish([sale("m-r", "p-3", T + timedelta(days=2), ("milk", "dairy", 500))])
    await rig.wait_settled()
    reminder = (await rig.decisions())["m-r/replenish/replenish:" + (T - timedelta(days=10)).isoformat()]
    assert reminder["decided_at"] == T
    assert reminder["outcome"] == "issued"


async def test_a_date_that_passes_between_two_sales_of_one_batch_fires_however_far_behind_the_group_is(
    campaigns_rig: CampaignsRig,
):
    rig = campaigns_rig
    rig.define(REPLENISH_NOW)
    await rig.another_replica_complete_until(T - timedelta(days=30))
    # One batch: the second sale sets the date T, which passes before the third.
    await rig.publish(
        [
            sale("m-r", "p-1", T - timedelta(days=20), ("milk", "dairy", 500)),
            sale("m-r", "p-2", T - timedelta(days=10), ("milk", "dairy", 500)),
            sale("m-r", "p-3", T + timedelta(days=2), ("milk", "dairy", 500)),
        ]
    )
    rig.start()
    await rig.wait_settled()
    reminder = (await rig.decisions())["m-r/replenish/replenish:" + (T - timedelta(days=10)).isoformat()]
    assert reminder["decided_at"] == T
