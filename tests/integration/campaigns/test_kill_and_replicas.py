"""Effectively-once under SIGKILL, and budgets exact while replicas race for them."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from shared.contracts import Lifecycle
from tests.integration.campaigns.conftest import CampaignsRig
from tests.integration.campaigns.test_offers import T, lifecycle, state


async def _decided(rig: CampaignsRig) -> int:
    [row] = await rig.fetch("SELECT count(*) AS n FROM decisions")
    return int(row["n"])


async def test_killing_campaigns_mid_stream_loses_no_offer_and_issues_none_twice(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    rig.define(lifecycle("win_back", "at_risk", holdout_pct=10, cooldown_days=0))
    members = 6_000
    await rig.publish([state(f"k-{i:05d}", Lifecycle.AT_RISK, at=T + timedelta(seconds=i)) for i in range(members)])
    # Cut the stream at points spread through it, each a little jittered, so every run is cut
    # mid-stream however fast this machine decides: a random delay alone once let the first run
    # finish the whole stream before its kill.
    rng = random.Random(5)
    cut_points = [int(members * fraction) + rng.randrange(200) for fraction in (0.15, 0.4, 0.65)]
    kills = 0
    for cut_point in cut_points:
        if await _decided(rig) >= cut_point:
            continue
        [service] = rig.start()
        deadline = asyncio.get_running_loop().time() + 120
        while await _decided(rig) < cut_point:
            assert asyncio.get_running_loop().time() < deadline, f"campaigns never reached {cut_point} decisions"
            await asyncio.sleep(0.02)
        service.process.kill()
        service.process.wait()
        rig.running.remove(service)
        kills += await _decided(rig) < members
    assert kills >= 2, "the stream must have been cut mid-stream at least twice"
    if not rig.running:
        rig.start()
    await rig.wait_settled(timeout_s=240)

    decisions = await rig.decisions()
    assert len(decisions) == members, "every trigger decided exactly once: none lost"
    outcomes = [row["outcome"] for row in decisions.values()]
    assert set(outcomes) == {"issued", "holdout"}
    offers = await rig.offers()
    offer_ids = [o["offer_id"] for o in offers]
    assert len(offer_ids) == len(set(offer_ids)), "no offer published twice across the kills"
    assert set(offer_ids) == {row["offer_id"] for row in decisions.values() if row["outcome"] == "issued"}


async def test_two_replicas_racing_never_issue_beyond_the_budget(campaigns_rig: CampaignsRig):
    rig = campaigns_rig
    budget = 30
    rig.define(lifecycle("scarce", "at_risk", budget={"max_total": budget}, cooldown_days=0))
    members = 400
    await rig.publish([state(f"r-{i:04d}", Lifecycle.AT_RISK) for i in range(members)])
    rig.start(replicas=2)
    await rig.wait_settled()

    decisions = list((await rig.decisions()).values())
    issued = [d for d in decisions if d["outcome"] == "issued"]
    assert len(decisions) == members
    assert len(issued) == budget
    assert {d["reason"] for d in decisions if d["outcome"] != "issued"} == {"budget_total_exhausted"}
    [total] = await rig.fetch("SELECT issued FROM budget_totals WHERE campaign_id = 'scarce'")
    assert total["issued"] == budget
    assert len(await rig.offers()) == budget
