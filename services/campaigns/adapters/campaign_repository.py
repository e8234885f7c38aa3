"""Campaign definitions in Postgres: the current one per campaign and every version ever stored.

Decisions are recorded against (campaign id, version), so a version, once stored, never changes:
an edit that changes the definition stores the next version, and one that changes nothing stores
nothing, so reloading the same folder or repeating a PUT does not inflate the history.

Definitions travel as JSON text cast in SQL (``$n::text::jsonb``, ``definition::text``), so these
functions behave the same on a pool connection, which decodes jsonb, and on a bare connection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.campaigns.domain.definitions import Campaign, CampaignStatus, parse_campaign
from services.campaigns.domain.triggers import Versioned

_CURRENT = "SELECT campaign_id, version, definition::text AS definition, status, updated_at FROM campaigns"


class CampaignExists(Exception):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"campaign {campaign_id!r} already exists")
        self.campaign_id = campaign_id


class CampaignNotFound(LookupError):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no campaign {campaign_id!r}")
        self.campaign_id = campaign_id


@dataclass(frozen=True)
class StoredCampaign:
    campaign: Campaign
    version: int
    status: CampaignStatus
    updated_at: datetime

    @property
    def versioned(self) -> Versioned:
        return Versioned(self.campaign, self.version)

    @property
    def active(self) -> bool:
        return self.status is CampaignStatus.ACTIVE


@dataclass(frozen=True)
class CampaignVersion:
    version: int
    campaign: Campaign
    origin: str  # who stored it: "api", "file:welcome.yaml", ...
    created_at: datetime


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Upserted:
    stored: StoredCampaign
    change: Change


def _as_json(campaign: Campaign) -> dict[str, Any]:
    return campaign.model_dump(mode="json")


def _as_text(definition: dict[str, Any]) -> str:
    return json.dumps(definition, ensure_ascii=False, sort_keys=True)


def _stored(row: Any) -> StoredCampaign:
    return StoredCampaign(
        campaign=parse_campaign(json.loads(row["definition"])),
        version=row["version"],
        status=CampaignStatus(row["status"]),
        updated_at=row["updated_at"],
    )


async def load_all(conn: Any) -> list[StoredCampaign]:
    """Every campaign, paused ones too, by id."""
    return [_stored(row) for row in await conn.fetch(f"{_CURRENT} ORDER BY campaign_id")]


async def get(conn: Any, campaign_id: str) -> StoredCampaign | None:
    row = await conn.fetchrow(f"{_CURRENT} WHERE campaign_id = $1", campaign_id)
    return _stored(row) if row is not None else None


async def _record_version(conn: Any, campaign_id: str, version: int, definition: str, origin: str) -> None:
    await conn.execute(
        """INSERT INTO campaign_versions (campaign_id, version, definition, origin)
           VALUES ($1, $2, $3::text::jsonb, $4)""",
        campaign_id,
        version,
        definition,
        origin,
    )


async def create(conn: Any, campaign: Campaign, origin: str) -> StoredCampaign:
    """Store a new campaign as version 1, active; raises CampaignExists if the id is taken."""
    definition = _as_text(_as_json(campaign))
    async with conn.transaction():
        row = await conn.fetchrow(
            """INSERT INTO campaigns (campaign_id, version, definition) VALUES ($1, 1, $2::text::jsonb)
               ON CONFLICT (campaign_id) DO NOTHING
               RETURNING campaign_id, version, definition::text AS definition, status, updated_at""",
            campaign.id,
            definition,
        )
        if row is None:
            raise CampaignExists(campaign.id)
        await _record_version(conn, campaign.id, 1, definition, origin)
    return _stored(row)


async def _update_locked(conn: Any, campaign: Campaign, origin: str) -> StoredCampaign | None:
    """The update itself; None when the campaign does not exist. Runs inside the caller's transaction."""
    row = await conn.fetchrow(
        "SELECT version, definition::text AS definition FROM campaigns WHERE campaign_id = $1 FOR UPDATE",
        campaign.id,
    )
    if row is None:
        return None
    wanted = _as_json(campaign)
    if json.loads(row["definition"]) == wanted:
        found = await get(conn, campaign.id)
        assert found is not None, "the row is locked by this transaction"
        return found
    version = row["version"] + 1
    definition = _as_text(wanted)
    # The status is kept: editing a paused campaign does not resume it.
    updated = await conn.fetchrow(
        """UPDATE campaigns SET version = $2, definition = $3::text::jsonb, updated_at = now()
           WHERE campaign_id = $1
           RETURNING campaign_id, version, definition::text AS definition, status, updated_at""",
        campaign.id,
        version,
        definition,
    )
    await _record_version(conn, campaign.id, version, definition, origin)
    return _stored(updated)


async def update(conn: Any, campaign: Campaign, origin: str) -> StoredCampaign:
    """Store the next version if the definition differs; else return the stored one unchanged.

    Raises CampaignNotFound for an unknown id. The row is locked, so two concurrent edits get
    consecutive versions instead of both claiming the same one.
    """
    async with conn.transaction():
        stored = await _update_locked(conn, campaign, origin)
    if stored is None:
        raise CampaignNotFound(campaign.id)
    return stored


async def upsert(conn: Any, campaign: Campaign, origin: str) -> Upserted:
    """Create the campaign or update it, saying which: how a folder of definitions is loaded.

    The loaded definition wins over an API edit of the same campaign; its status does not change.
    """
    async with conn.transaction():
        # Serialise racing loaders (replicas starting together) on this id, so create cannot collide.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('campaigns.definition'), hashtext($1))", campaign.id)
        before = await get(conn, campaign.id)
        if before is None:
            return Upserted(await create(conn, campaign, origin), Change.CREATED)
        after = await _update_locked(conn, campaign, origin)
        assert after is not None, "the campaign existed under the lock"
    return Upserted(after, Change.UNCHANGED if after.version == before.version else Change.UPDATED)


async def set_status(conn: Any, campaign_id: str, status: CampaignStatus) -> StoredCampaign:
    """Pause or resume; the definition and its version are untouched. Raises CampaignNotFound."""
    row = await conn.fetchrow(
        """UPDATE campaigns
           SET status = $2, updated_at = CASE WHEN status = $2 THEN updated_at ELSE now() END
           WHERE campaign_id = $1
           RETURNING campaign_id, version, definition::text AS definition, status, updated_at""",
        campaign_id,
        status.value,
    )
    if row is None:
        raise CampaignNotFound(campaign_id)
    return _stored(row)


async def versions(conn: Any, campaign_id: str) -> list[CampaignVersion]:
    """Every stored version of the campaign, oldest first; empty for an unknown id."""
    rows = await conn.fetch(
        """SELECT version, definition::text AS definition, origin, created_at FROM campaign_versions
           WHERE campaign_id = $1 ORDER BY version""",
        campaign_id,
    )
    return [
        CampaignVersion(row["version"], parse_campaign(json.loads(row["definition"])), row["origin"], row["created_at"])
        for row in rows
    ]
