"""Community membership and activity counters, and the per-community figures built on them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Counter columns of community_activity, in the order ``add_activity`` takes them.
ACTIVITY_COLUMNS = ("joins", "leaves", "follows", "unfollows", "messages")


async def set_presence(conn: Any, latest: Mapping[tuple[str, str], tuple[bool, datetime]]) -> None:
    """(community, member) → (present, as of): a later fact wins, a late one changes nothing."""
    if not latest:
        return
    keys = list(latest)
    await conn.execute(
        """INSERT INTO community_members (community_id, member_id, present, since)
           SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::timestamptz[])
           ON CONFLICT (community_id, member_id) DO UPDATE SET present = excluded.present, since = excluded.since
           WHERE excluded.since >= community_members.since""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [latest[k][0] for k in keys],
        [latest[k][1] for k in keys],
    )


async def add_activity(conn: Any, counts: Mapping[str, tuple[int, int, int, int, int]]) -> None:
    """Add a batch's counts per community (one row per community, so no key twice in a statement)."""
    if not counts:
        return
    ids = list(counts)
    columns = list(zip(*(counts[c] for c in ids), strict=True))
    await conn.execute(
        """INSERT INTO community_activity (community_id, joins, leaves, follows, unfollows, messages)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
           ON CONFLICT (community_id) DO UPDATE SET
             joins = community_activity.joins + excluded.joins,
             leaves = community_activity.leaves + excluded.leaves,
             follows = community_activity.follows + excluded.follows,
             unfollows = community_activity.unfollows + excluded.unfollows,
             messages = community_activity.messages + excluded.messages""",
        ids,
        *[list(column) for column in columns],
    )


async def community_figures(conn: Any, community_id: str) -> dict[str, Any] | None:
    """Present members by engagement tier, and the unfollow rate (unfollows / new follows)."""
    activity = await conn.fetchrow(
        "SELECT joins, leaves, follows, unfollows, messages FROM community_activity WHERE community_id = $1",
        community_id,
    )
    tiers = await conn.fetch(
        """SELECT m.engagement_tier, count(*) AS members FROM community_members c
           JOIN members m ON m.member_id = c.member_id
           WHERE c.community_id = $1 AND c.present AND m.merged_into IS NULL GROUP BY m.engagement_tier""",
        community_id,
    )
    if activity is None and not tiers:
        return None
    counts = dict(activity) if activity else dict.fromkeys(ACTIVITY_COLUMNS, 0)
    follows = counts["follows"]
    return {
        "community_id": community_id,
        "members_by_tier": {row["engagement_tier"]: row["members"] for row in tiers},
        "activity": counts,
        "unfollow_rate": (counts["unfollows"] / follows) if follows else None,
    }


async def unfollow_rates(conn: Any) -> list[float | None]:
    """Each community's unfollow rate (unfollows / new follows), None where nobody followed yet."""
    rows = await conn.fetch(
        "SELECT unfollows::float8 / NULLIF(follows, 0) AS rate FROM community_activity ORDER BY community_id"
    )
    return [r["rate"] for r in rows]
