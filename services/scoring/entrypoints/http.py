"""scoring's management API: a member's state and why, a community's figures. Token required."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException

from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.queries import community_view, member_view
from shared.observability.management import require_management_token
from shared.settings import HttpSettings


def install(app: FastAPI, *, pool: Any, holder: PolicyHolder, http: HttpSettings, lateness: timedelta) -> None:
    router = APIRouter(prefix="/v1", dependencies=[Depends(require_management_token(http.management_token))])

    @router.get("/members/{member_id}")
    async def get_member(member_id: str) -> dict[str, Any]:
        async with pool.acquire() as conn:
            view = await member_view(conn, member_id, await holder.ready(conn), lateness)
        if view is None:
            raise HTTPException(404, f"no member {member_id!r}")
        return view

    @router.get("/communities/{community_id}")
    async def get_community(community_id: str) -> dict[str, Any]:
        async with pool.acquire() as conn:
            view = await community_view(conn, community_id)
        if view is None:
            raise HTTPException(404, f"no community {community_id!r}")
        return view

    app.include_router(router)
