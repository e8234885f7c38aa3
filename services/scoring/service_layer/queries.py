"""Read-only views for the management API and the CLI: a member explained, a community's figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from services.scoring.adapters import clock_repository, community_repository, member_repository
from services.scoring.domain.explain import explain
from services.scoring.domain.policy import Policy
from services.scoring.domain.scores import with_scores


async def member_view(conn: Any, member_id: str, policy: Policy, lateness: timedelta) -> dict[str, Any] | None:
    """The member's state, scores and reasons, explained as of the watermark (or its own clock)."""
    state = await member_repository.get(conn, member_id)
    if state is None:
        return None
    if state.merged_into is not None:
        return {"member_id": member_id, "merged_into": state.merged_into}
    mark = await clock_repository.stream_watermark(conn, lateness)
    as_of = max(state.clock, mark) if mark else state.clock
    [scored] = with_scores([replace(state, clock=as_of)], policy)
    view = explain(scored, as_of, policy)
    view["communities"] = list((await member_repository.communities_of(conn, [member_id])).get(member_id, ()))
    view["transitions"] = [
        {**row, "at": row["at"].isoformat(), "reasons": list(row["reasons"])}
        for row in await member_repository.recent_transitions(conn, member_id)
    ]
    return view


async def community_view(conn: Any, community_id: str) -> dict[str, Any] | None:
    return await community_repository.community_figures(conn, community_id)
