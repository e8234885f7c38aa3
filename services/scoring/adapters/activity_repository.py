"""Loading and saving member activity in the scoring schema, a whole batch per query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple
from typing import Any

from services.scoring.domain.activity import MemberActivity
from shared.contracts import EngagementTier, Lifecycle

_COLUMNS = (
    "member_id, first_seen_at, last_event_at, chat_events, community_events, purchases, spend_minor, "
    "lifecycle, engagement_tier, state_version"
)


async def load(conn: Any, member_ids: Iterable[str]) -> dict[str, MemberActivity]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM member_activity WHERE member_id = ANY($1::text[]) FOR UPDATE",  # noqa: S608
        list(member_ids),
    )
    return {
        row["member_id"]: MemberActivity(
            **{
                **dict(row),
                "lifecycle": Lifecycle(row["lifecycle"]),
                "engagement_tier": EngagementTier(row["engagement_tier"]),
            }
        )
        for row in rows
    }


async def save(conn: Any, activities: Iterable[MemberActivity]) -> None:
    await conn.executemany(
        f"""INSERT INTO member_activity ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (member_id) DO UPDATE SET
              first_seen_at = excluded.first_seen_at, last_event_at = excluded.last_event_at,
              chat_events = excluded.chat_events, community_events = excluded.community_events,
              purchases = excluded.purchases, spend_minor = excluded.spend_minor,
              lifecycle = excluded.lifecycle, engagement_tier = excluded.engagement_tier,
              state_version = excluded.state_version""",  # noqa: S608
        [(*astuple(a)[:7], a.lifecycle.value, a.engagement_tier.value, a.state_version) for a in activities],
    )
