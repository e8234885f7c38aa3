"""campaigns' management API, report, CLI and reference loaders, against the real Postgres of the test stack.

The API runs in-process (httpx over ASGI) on a pool connected as the campaigns role, so every
statement runs with the rights the service has, on the schema its migrations built.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.campaigns.adapters import campaign_repository, reference_repository
from services.campaigns.adapters.campaign_repository import Change
from services.campaigns.adapters.reference_repository import ReferenceFileError
from services.campaigns.domain.definitions import CampaignStatus, parse_campaign
from services.campaigns.domain.uplift import Arm, uplift
from services.campaigns.entrypoints.http import install
from services.campaigns.entrypoints.service import MIGRATIONS
from services.campaigns.service_layer.report import all_reports
from shared.postgres.pool import create_pool
from shared.postgres.provision import migrate_service
from shared.settings import HttpSettings
from tests.stack import REPO_ROOT, Stack

TOKEN = "campaigns-admin-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DECIDED_AT = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def win_back(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "win_back",
        "name": "Win back members at risk",
        "trigger": {"kind": "lifecycle_entered", "lifecycle": "at_risk"},
        "offer": {"template": "win_back", "coupon_code": "COMEBACK20", "coupon_value_minor": 2000},
        "channels": ["wechat", "sms"],
        "priority": 80,
        "value_basis": "value_at_risk",
        **overrides,
    }


@pytest.fixture
async def pool(bootstrapped: Stack) -> AsyncIterator[asyncpg.Pool]:
    dsn = bootstrapped.pg.dsn_for("campaigns")
    await migrate_service(dsn, "campaigns", MIGRATIONS)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    await pool.execute("TRUNCATE campaigns, campaign_versions, decisions, stores, products")
    yield pool
    await pool.close()


class Changes:
    """Stands in for the running service's refresh: counts how often the API asked for one."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
async def api(pool: asyncpg.Pool, changes: Changes) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install(app, pool=pool, http=HttpSettings(management_token=SecretStr(TOKEN)), on_change=changes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://campaigns") as client:
        yield client


async def test_every_route_needs_the_management_token(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/campaigns")).status_code == 401
    assert (await api.post("/v1/campaigns", json=win_back())).status_code == 401
    wrong = await api.get("/v1/campaigns/win_back/report", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert (await api.get("/v1/campaigns", headers=AUTH)).json() == []


async def test_create_refuses_duplicates_and_invalid_definitions_with_readable_errors(
    api: httpx.AsyncClient, changes: Changes
) -> None:
    created = await api.post("/v1/campaigns", json=win_back(), headers=AUTH)
    assert created.status_code == 201
    assert created.json() == {"id": "win_back", "version": 1, "status": "active"}
    assert changes.count == 1, "the running service is told at once"

    again = await api.post("/v1/campaigns", json=win_back(priority=5), headers=AUTH)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]

    misspelt = await api.post("/v1/campaigns", json=win_back(id="other", holdout_percent=5), headers=AUTH)
    assert misspelt.status_code == 422
    assert misspelt.json()["detail"] == ["holdout_percent: unknown key; did you mean 'holdout_pct'?"]
    no_state = await api.post(
        "/v1/campaigns", json=win_back(id="other", trigger={"kind": "lifecycle_entered"}), headers=AUTH
    )
    assert no_state.status_code == 422
    assert no_state.json()["detail"][0].startswith("trigger: a lifecycle_entered trigger names the lifecycle")
    assert changes.count == 1, "refused requests change nothing"

    listed = (await api.get("/v1/campaigns", headers=AUTH)).json()
    assert [(c["id"], c["version"], c["status"], c["trigger"]) for c in listed] == [
        ("win_back", 1, "active", "lifecycle_entered")
    ]
    shown = (await api.get("/v1/campaigns/win_back", headers=AUTH)).json()
    assert (shown["version"], shown["status"]) == (1, "active")
    assert shown["definition"] == parse_campaign(win_back()).model_dump(mode="json")
    assert (await api.get("/v1/campaigns/nobody", headers=AUTH)).status_code == 404


async def test_an_edit_makes_a_new_version_only_when_the_definition_changes(
    api: httpx.AsyncClient, changes: Changes
) -> None:
    assert (await api.post("/v1/campaigns", json=win_back(), headers=AUTH)).status_code == 201

    edited = await api.put("/v1/campaigns/win_back", json=win_back(priority=90), headers=AUTH)
    assert edited.status_code == 200
    assert edited.json() == {"id": "win_back", "version": 2, "status": "active", "changed": True}
    same = await api.put("/v1/campaigns/win_back", json=win_back(priority=90), headers=AUTH)
    assert same.json() == {"id": "win_back", "version": 2, "status": "active", "changed": False}
    assert changes.count == 2, "create and the real edit; the repeated PUT changed nothing"

    without_id = {k: v for k, v in win_back(priority=95).items() if k != "id"}
    assert (await api.put("/v1/campaigns/win_back", json=without_id, headers=AUTH)).json()["version"] == 3

    other_id = await api.put("/v1/campaigns/win_back", json=win_back(id="reactivation"), headers=AUTH)
    assert other_id.status_code == 422
    assert "the body names 'reactivation' but the path names 'win_back'" in other_id.json()["detail"][0]
    unknown = await api.put("/v1/campaigns/nobody", json=win_back(id="nobody"), headers=AUTH)
    assert unknown.status_code == 404

    versions = (await api.get("/v1/campaigns/win_back/versions", headers=AUTH)).json()
    assert [(v["version"], v["origin"], v["definition"]["priority"]) for v in versions] == [
        (1, "api", 80),
        (2, "api", 90),
        (3, "api", 95),
    ]
    assert (await api.get("/v1/campaigns/nobody/versions", headers=AUTH)).status_code == 404


async def test_pause_and_resume_keep_the_definition_and_survive_edits(api: httpx.AsyncClient, changes: Changes) -> None:
    assert (await api.post("/v1/campaigns", json=win_back(), headers=AUTH)).status_code == 201

    paused = await api.post("/v1/campaigns/win_back/pause", headers=AUTH)
    assert paused.json() == {"id": "win_back", "version": 1, "status": "paused"}
    assert (await api.get("/v1/campaigns/win_back", headers=AUTH)).json()["status"] == "paused"
    edited = await api.put("/v1/campaigns/win_back", json=win_back(priority=70), headers=AUTH)
    assert edited.json()["status"] == "paused", "an edit does not resume a paused campaign"
    resumed = await api.post("/v1/campaigns/win_back/resume", headers=AUTH)
    assert resumed.json() == {"id": "win_back", "version": 2, "status": "active"}
    assert changes.count == 4
    assert (await api.post("/v1/campaigns/nobody/pause", headers=AUTH)).status_code == 404


async def test_upsert_says_what_a_folder_load_changed_and_keeps_the_status(pool: asyncpg.Pool) -> None:
    campaign = parse_campaign(win_back())
    async with pool.acquire() as conn:
        first = await campaign_repository.upsert(conn, campaign, "file")
        again = await campaign_repository.upsert(conn, campaign, "file")
        await campaign_repository.set_status(conn, "win_back", CampaignStatus.PAUSED)
        changed = await campaign_repository.upsert(conn, parse_campaign(win_back(cooldown_days=30)), "file")
        with pytest.raises(campaign_repository.CampaignExists):
            await campaign_repository.create(conn, campaign, "api")
        with pytest.raises(campaign_repository.CampaignNotFound):
            await campaign_repository.update(conn, parse_campaign(win_back(id="nobody")), "api")
        stored = await campaign_repository.load_all(conn)
    assert [(r.change, r.stored.version) for r in (first, again, changed)] == [
        (Change.CREATED, 1),
        (Change.UNCHANGED, 1),
        (Change.UPDATED, 2),
    ]
    assert changed.stored.status is CampaignStatus.PAUSED
    assert [(s.versioned.id, s.versioned.version, s.active) for s in stored] == [("win_back", 2, False)]
    assert stored[0].campaign.cooldown_days == 30


def _decision(n: int, outcome: str, **columns: Any) -> dict[str, Any]:
    return {
        "decision_key": f"m-{n}\x1fwin_back\x1fstate:{n}",
        "offer_id": f"offer-{n}",
        "member_id": f"m-{n}",
        "campaign_id": columns.pop("campaign_id", "win_back"),
        "campaign_version": 1,
        "kind": "lifecycle_entered",
        "occurrence": f"state:{n}",
        "decided_at": DECIDED_AT + timedelta(minutes=n),
        "outcome": outcome,
        "message_type": "marketing",
        **columns,
    }


async def _insert_decisions(pool: asyncpg.Pool, rows: list[dict[str, Any]]) -> None:
    """Row by row, each with only its own columns, so the others keep their defaults."""
    async with pool.acquire() as conn, conn.transaction():
        for row in rows:
            placeholders = ", ".join(f"${i}" for i in range(1, len(row) + 1))
            await conn.execute(f"INSERT INTO decisions ({', '.join(row)}) VALUES ({placeholders})", *row.values())


async def test_the_report_counts_each_outcome_and_measures_uplift_against_the_holdout(
    api: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    assert (await api.post("/v1/campaigns", json=win_back(), headers=AUTH)).status_code == 201
    converted = {"converted_at": DECIDED_AT + timedelta(days=3), "conversion_purchase_id": "p"}
    rows = [
        # 40 issued: 30 sent, 25 of them delivered, 10 converted spending 50.00 each.
        *(
            _decision(
                n,
                "issued",
                coupon_value_minor=2000,
                last_status="delivered" if n < 25 else ("sent" if n < 30 else "failed"),
                delivered_at=DECIDED_AT + timedelta(hours=1) if n < 25 else None,
                **(converted | {"revenue_minor": 5000} if n < 10 else {}),
            )
            for n in range(40)
        ),
        # 40 held out: decided the same way, never sent; 4 converted on their own, spending 30.00 each.
        *(_decision(n, "holdout", **(converted | {"revenue_minor": 3000} if n < 44 else {})) for n in range(40, 80)),
        _decision(80, "suppressed", reason="cooldown"),
        _decision(81, "suppressed", reason="cooldown"),
        _decision(82, "suppressed", reason="no_consent"),
        _decision(83, "queued", reason="frequency_cap", not_before=DECIDED_AT + timedelta(days=1)),
        _decision(84, "issued", campaign_id="retired_campaign"),
    ]
    await _insert_decisions(pool, rows)

    figures = (await api.get("/v1/campaigns/win_back/report", headers=AUTH)).json()
    assert (figures["version"], figures["status"], figures["decisions"]) == (1, "active", 84)
    assert (figures["issued"], figures["holdout"], figures["queued"], figures["suppressed"]) == (40, 40, 1, 3)
    assert figures["suppressed_by_reason"] == {"cooldown": 2, "no_consent": 1}
    assert (figures["sent"], figures["delivered"]) == (30, 25)
    assert figures["converted"] == {"treated": 10, "holdout": 4}
    assert figures["conversion_rate"] == {"treated": 0.25, "holdout": 0.1}
    assert figures["revenue_minor"] == {"treated": 50_000, "holdout": 12_000}
    assert figures["coupon_issued_minor"] == 80_000
    expected = uplift(Arm(40, 10, 50_000), Arm(40, 4, 12_000), 0.95)
    assert figures["uplift"] == {**expected.as_dict(), "confidence": 0.95}
    assert figures["uplift"]["absolute"] == pytest.approx(0.15)
    assert figures["uplift"]["ci_low"] < 0.15 < figures["uplift"]["ci_high"]
    assert figures["incremental_revenue_minor"] == 38_000, "50.00 × 10 − 30.00 × 4 scaled to 40 members"

    assert (await api.get("/v1/campaigns/nobody/report", headers=AUTH)).status_code == 404
    async with pool.acquire() as conn:
        every = {r["campaign_id"]: r for r in await all_reports(conn)}
    assert every["win_back"] == figures
    retired = every["retired_campaign"]
    assert (retired["version"], retired["issued"], retired["uplift"]["absolute"]) == (None, 1, None)


async def test_a_campaign_without_decisions_reports_zeros(api: httpx.AsyncClient) -> None:
    assert (await api.post("/v1/campaigns", json=win_back(), headers=AUTH)).status_code == 201
    figures = (await api.get("/v1/campaigns/win_back/report", headers=AUTH)).json()
    assert (figures["decisions"], figures["issued"], figures["suppressed_by_reason"]) == (0, 0, {})
    assert figures["uplift"]["absolute"] is None
    assert figures["conversion_rate"]["treated"] is None


STORES = (
    "\ufeffstore_id,name,timezone,region,city\n"  # Excel's BOM, as a chain's export has it
    "s1,中山路店,Asia/Shanghai,East,上海\n"
    "s2,Orchard,Asia/Singapore,,Singapore\n"
)
PRODUCTS = (
    "sku,name,category,brand,price_tier\n"
    "MILK-1L,Milk 1L,dairy,Bright,mid\n"
    "MILK-ORG,Organic milk,dairy,Bright,Premium\n"
    "MILK-A2,A2 milk,dairy,Bright,3\n"
    "BAG,Bag,misc,,\n"
)


async def test_reference_files_load_and_a_bad_line_loads_nothing(pool: asyncpg.Pool, tmp_path: Path) -> None:
    bad_zone = "store_id,name,timezone,region,city\ns1,A,Asia/Shanghai,East,\ns2,B,Mars/Olympus,,\n"
    with pytest.raises(ReferenceFileError, match=r"line 3: 'Mars/Olympus' is not an IANA time zone"):
        reference_repository.stores_from_csv(bad_zone)
    with pytest.raises(ReferenceFileError, match="line 1: the header lacks"):
        reference_repository.stores_from_csv("store_id,timezone\ns1,UTC\n")
    with pytest.raises(ReferenceFileError, match=r"line 2: price_tier 'deluxe' is neither"):
        reference_repository.products_from_csv("sku,name,category,brand,price_tier\nX,x,dairy,,deluxe\n")
    (tmp_path / "latin1.csv").write_bytes("store_id,name,timezone,region,city\ns1,Café,UTC,,\n".encode("latin-1"))
    with pytest.raises(ReferenceFileError, match="not UTF-8"):
        reference_repository.read_stores_file(tmp_path / "latin1.csv")

    (tmp_path / "stores.csv").write_text(STORES, encoding="utf-8")
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    async with pool.acquire() as conn, conn.transaction():
        assert (
            await reference_repository.upsert_stores(
                conn, reference_repository.read_stores_file(tmp_path / "stores.csv")
            )
            == 2
        )
        products = reference_repository.read_products_file(tmp_path / "products.csv")
        assert await reference_repository.upsert_products(conn, products) == 4
    async with pool.acquire() as conn:
        zones = await reference_repository.store_zones(conn)
        ladder = await reference_repository.price_ladder(conn)
    assert zones == {"s1": ("Asia/Shanghai", "East"), "s2": ("Asia/Singapore", None)}
    assert ladder == [("BAG", "misc", None), ("MILK-1L", "dairy", 2), ("MILK-A2", "dairy", 3), ("MILK-ORG", "dairy", 4)]


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.campaigns", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **stack.env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_checks_and_loads_definitions_and_refuses_a_bad_reference_file(
    bootstrapped: Stack, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    defaults = REPO_ROOT / "services" / "campaigns" / "defaults"
    checked = _cli(bootstrapped, "campaigns", "check", str(defaults))
    assert checked.returncode == 0, checked.stderr
    assert "7 valid campaign(s)" in checked.stdout

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "w.yaml").write_text("id: w\nname: W\ntrigger: {kind: lifecycle_entered}\noffer: {template: w}\n")
    refused = _cli(bootstrapped, "campaigns", "load", str(broken))
    assert refused.returncode == 1
    assert "w.yaml: campaign 'w': channels: is required" in refused.stderr

    first = _cli(bootstrapped, "campaigns", "load", str(defaults))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created") == 7
    assert "welcome v1 (active)" in first.stdout
    second = _cli(bootstrapped, "campaigns", "load", str(defaults))
    assert second.stdout.count("unchanged") == 7
    assert "0 of 7 campaign(s) changed" in second.stderr

    reported = _cli(bootstrapped, "report", "win_back", "--json")
    assert reported.returncode == 0, reported.stderr
    assert '"campaign_id": "win_back"' in reported.stdout
    table = _cli(bootstrapped, "report")
    assert table.returncode == 0
    assert "community_interest v1" in table.stdout

    (tmp_path / "stores.csv").write_text("store_id,name,timezone,region,city\ns1,A,UTC,,\ns2,B,Nowhere/Land,,\n")
    bad = _cli(bootstrapped, "stores", "load", str(tmp_path / "stores.csv"))
    assert bad.returncode == 1
    assert "line 3" in bad.stderr
    assert "nothing loaded" in bad.stderr
    assert await pool.fetchval("SELECT count(*) FROM stores") == 0
    (tmp_path / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    good = _cli(bootstrapped, "catalog", "load", str(tmp_path / "products.csv"))
    assert good.returncode == 0, good.stderr
    assert "loaded 4 products" in good.stderr
