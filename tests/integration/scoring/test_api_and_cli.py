"""scoring's management API, CLI and merges, on the real stack."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.contracts import CommunityAction, MemberMergedV1, wrap
from shared.contracts.topics import MEMBER_MERGED
from tests.integration.scoring.conftest import TOKEN, ScoringRig, scoring_env
from tests.stack import REPO_ROOT
from tests.unit.scoring import events as build
from tools.member_history import HistorySpec, member_history

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, tzinfo=UTC)


def _cli(rig: ScoringRig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.scoring", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **scoring_env(rig.stack)},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_api_explains_a_member_and_a_community_and_needs_a_token(rig: ScoringRig) -> None:
    run = uuid.uuid4().hex[:8]
    member, other = f"m_{run}_a", f"m_{run}_b"
    offset = (START - build.day(0)).days
    history = [
        *(build.purchase(offset + d, member=member) for d in range(0, 70, 7)),
        build.community(offset + 1, CommunityAction.JOIN, member=member),
        build.community(offset + 2, CommunityAction.FOLLOW, member=other),
        build.community(offset + 3, CommunityAction.UNFOLLOW, member=other),
        build.chat(offset + 80, text="Worst milk ever, I want a refund", member=member),
        build.purchase(offset + 81, member=other),
    ]
    await rig.publish_live(sorted(history, key=lambda e: e.occurred_at))
    service = await asyncio.to_thread(rig.start)
    await rig.wait_settled()
    async with httpx.AsyncClient(base_url=service.base_url, timeout=10) as http:
        assert (await http.get(f"/v1/members/{member}")).status_code == 401
        wrong = await http.get(f"/v1/members/{member}", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        view = (await http.get(f"/v1/members/{member}", headers=auth)).json()
        assert view["lifecycle"] == "at_risk"
        assert set(view["reasons"]) >= {"overdue_vs_own_cadence", "complaint"}
        assert any("purchase every 7.0 days" in line for line in view["explanation"])
        assert view["transitions"][0]["to_lifecycle"] == "at_risk"
        assert view["p_alive"] is not None
        assert (await http.get("/v1/members/m_nobody", headers=auth)).status_code == 404
        community = (await http.get("/v1/communities/estate-42", headers=auth)).json()
        assert community["activity"]["follows"] >= 1
        assert community["unfollow_rate"] is not None

        # member.merged.v1 folds the other member into the first, deterministically.
        merged = MemberMergedV1(
            member_id=member, occurred_at=START + timedelta(days=90), merged_member_id=other, reason="same phone"
        )
        record = wrap(merged, topic=MEMBER_MERGED.name, source="memberpulse/ingest")
        await rig.producer.send_and_wait(record.topic, record.value, key=record.key, headers=list(record.headers))
        await rig.wait_settled()
        survivor = (await http.get(f"/v1/members/{member}", headers=auth)).json()
        pointer = (await http.get(f"/v1/members/{other}", headers=auth)).json()
    assert pointer == {"member_id": other, "merged_into": member}
    [row] = await rig.fetch("SELECT sales FROM members WHERE member_id = $1", member)
    assert row["sales"] == 11
    assert survivor["state_version"] >= view["state_version"]

    explained = await asyncio.to_thread(_cli, rig, "explain", member)
    assert explained.returncode == 0, explained.stderr
    assert "purchase every" in explained.stdout
    missing = await asyncio.to_thread(_cli, rig, "explain", "m_nobody")
    assert missing.returncode == 1
    assert "no member" in missing.stderr


async def test_fit_stores_a_new_model_version_that_the_running_service_picks_up(rig: ScoringRig) -> None:
    run = uuid.uuid4().hex[:8]
    await rig.publish(member_history(HistorySpec(run=run, members=120, days=300, seed=5), START))
    service = await asyncio.to_thread(rig.start)
    await rig.wait_settled()
    too_early = await asyncio.to_thread(_cli, rig, "fit", "--until", "2025-03-04")
    assert too_early.returncode == 1
    assert "not fitted" in too_early.stderr
    fitted = await asyncio.to_thread(_cli, rig, "fit", "--until", (START + timedelta(days=300)).date().isoformat())
    assert fitted.returncode == 0, fitted.stderr
    found = re.search(r"model version (\d+): (\d+) buyers", fitted.stdout)
    assert found, fitted.stdout
    version, buyers = int(found.group(1)), int(found.group(2))
    [row] = await rig.fetch("SELECT members, bgnbd FROM model_params WHERE version = $1", version)
    assert row["members"] == buyers == 120
    await asyncio.sleep(2.5)  # policy reload every second in tests
    metrics = httpx.get(f"{service.base_url}/metrics", timeout=5).text
    assert f"memberpulse_scoring_model_version {version}.0" in metrics
