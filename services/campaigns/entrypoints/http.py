"""campaigns' management API: define, edit, pause and resume campaigns, and read their figures. Token required.

Bodies are the same campaign JSON as the YAML files (``domain/definitions.py``). They are
validated here rather than by FastAPI's own body model so a 422 answers with the same readable
lines ``campaigns check`` prints (``trigger: a lifecycle_entered trigger names the lifecycle
state``), not with pydantic's raw error objects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException
from pydantic import ValidationError

from services.campaigns.adapters import campaign_repository as repository
from services.campaigns.adapters.campaign_repository import CampaignExists, CampaignNotFound, StoredCampaign
from services.campaigns.domain.definitions import Campaign, CampaignStatus, parse_campaign
from services.campaigns.service_layer.definitions_loader import describe_errors
from services.campaigns.service_layer.report import campaign_report
from shared.observability.logging import get_logger
from shared.observability.management import require_management_token
from shared.settings import HttpSettings

ORIGIN = "api"
log = get_logger(__name__)
CampaignBody = Annotated[dict[str, Any], Body(description="A campaign definition, as in the YAML files")]


def _valid(body: dict[str, Any]) -> Campaign:
    try:
        return parse_campaign(body)
    except ValidationError as exc:
        raise HTTPException(422, describe_errors(exc)) from None


def _summary(stored: StoredCampaign) -> dict[str, Any]:
    return {"id": stored.campaign.id, "version": stored.version, "status": stored.status.value}


def _listed(stored: StoredCampaign) -> dict[str, Any]:
    return {
        **_summary(stored),
        "name": stored.campaign.name,
        "trigger": stored.campaign.trigger.kind.value,
        "priority": stored.campaign.priority,
        "updated_at": stored.updated_at.isoformat(),
    }


def install(app: FastAPI, *, pool: Any, http: HttpSettings, on_change: Callable[[], Awaitable[None]]) -> None:
    """Mount the /v1 campaign routes.

    ``on_change`` runs after each committed change, so the running service decides with the new
    definitions at once instead of at its next periodic refresh.
    """
    router = APIRouter(prefix="/v1", dependencies=[Depends(require_management_token(http.management_token))])

    async def announce_change() -> None:
        # The change is committed whatever happens here: a failed refresh must not turn it into
        # an error for the caller; the periodic refresh picks it up instead.
        try:
            await on_change()
        except Exception as exc:
            log.warning("campaign refresh after a change failed", error=repr(exc))

    @router.post("/campaigns", status_code=201)
    async def create_campaign(body: CampaignBody) -> dict[str, Any]:
        campaign = _valid(body)
        try:
            async with pool.acquire() as conn:
                stored = await repository.create(conn, campaign, ORIGIN)
        except CampaignExists as exc:
            raise HTTPException(409, f"{exc}; change it with PUT /v1/campaigns/{campaign.id}") from None
        await announce_change()
        return _summary(stored)

    @router.get("/campaigns")
    async def list_campaigns() -> list[dict[str, Any]]:
        async with pool.acquire() as conn:
            return [_listed(stored) for stored in await repository.load_all(conn)]

    @router.get("/campaigns/{campaign_id}")
    async def get_campaign(campaign_id: str) -> dict[str, Any]:
        async with pool.acquire() as conn:
            stored = await repository.get(conn, campaign_id)
        if stored is None:
            raise HTTPException(404, f"no campaign {campaign_id!r}")
        return {
            **_summary(stored),
            "updated_at": stored.updated_at.isoformat(),
            "definition": stored.campaign.model_dump(mode="json"),
        }

    @router.put("/campaigns/{campaign_id}")
    async def update_campaign(campaign_id: str, body: CampaignBody) -> dict[str, Any]:
        # The path names the campaign; a body without an id edits that one, a different id is a mistake.
        given = body.get("id", campaign_id)
        if given != campaign_id:
            raise HTTPException(422, [f"id: the body names {given!r} but the path names {campaign_id!r}"])
        campaign = _valid({**body, "id": campaign_id})
        try:
            async with pool.acquire() as conn:
                before = await repository.get(conn, campaign_id)
                stored = await repository.update(conn, campaign, ORIGIN)
        except CampaignNotFound as exc:
            raise HTTPException(404, f"{exc}; create it with POST /v1/campaigns") from None
        is_new_version = before is None or stored.version != before.version
        if is_new_version:
            await announce_change()
        return {**_summary(stored), "changed": is_new_version}

    async def _set_status(campaign_id: str, status: CampaignStatus) -> dict[str, Any]:
        try:
            async with pool.acquire() as conn:
                stored = await repository.set_status(conn, campaign_id, status)
        except CampaignNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        await announce_change()
        return _summary(stored)

    @router.post("/campaigns/{campaign_id}/pause")
    async def pause_campaign(campaign_id: str) -> dict[str, Any]:
        """Stop deciding for the campaign; decisions already made (and queued ones) stand."""
        return await _set_status(campaign_id, CampaignStatus.PAUSED)

    @router.post("/campaigns/{campaign_id}/resume")
    async def resume_campaign(campaign_id: str) -> dict[str, Any]:
        return await _set_status(campaign_id, CampaignStatus.ACTIVE)

    @router.get("/campaigns/{campaign_id}/versions")
    async def campaign_versions(campaign_id: str) -> list[dict[str, Any]]:
        async with pool.acquire() as conn:
            stored = await repository.versions(conn, campaign_id)
        if not stored:
            raise HTTPException(404, f"no campaign {campaign_id!r}")
        return [
            {
                "version": v.version,
                "origin": v.origin,
                "created_at": v.created_at.isoformat(),
                "definition": v.campaign.model_dump(mode="json"),
            }
            for v in stored
        ]

    @router.get("/campaigns/{campaign_id}/report")
    async def report(campaign_id: str) -> dict[str, Any]:
        async with pool.acquire() as conn:
            figures = await campaign_report(conn, campaign_id)
        if figures is None:
            raise HTTPException(404, f"no campaign {campaign_id!r}")
        return figures

    app.include_router(router)
