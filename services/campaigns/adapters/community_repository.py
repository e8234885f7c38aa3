"""Who asked about what in each community, how far each campaign has looked, and when it fired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

Key = tuple[str, str]  # (community, category)


async def log_mentions(conn: Any, campaign_id: str, mentions: Sequence[tuple[str, str, str, datetime]]) -> None:
    """(community, category, member, at): every mention, a redelivered one once."""
    if not mentions:
        return
    rows = sorted(set(mentions))
    await conn.execute(
        """INSERT INTO community_mention_log (campaign_id, community_id, category, member_id, at)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[])
           ON CONFLICT DO NOTHING""",
        campaign_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


async def keys_due(conn: Any, campaign_id: str, until: datetime) -> list[Key]:
    """Communities and categories with a mention the campaign has not looked at, up to ``until``."""
    rows = await conn.fetch(
        """SELECT DISTINCT l.community_id, l.category
           FROM community_mention_log l
           LEFT JOIN community_interest_progress p USING (campaign_id, community_id, category)
           WHERE l.campaign_id = $1 AND l.at <= $2 AND (p.looked_until IS NULL OR l.at > p.looked_until)""",
        campaign_id,
        until,
    )
    return sorted((r["community_id"], r["category"]) for r in rows)


async def lock(conn: Any, campaign_id: str, key: Key) -> datetime | None:
    """Take the key for this transaction (one replica looks at a key at a time); how far it was looked at."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{campaign_id}\x1f{key[0]}\x1f{key[1]}")
    looked: datetime | None = await conn.fetchval(
        """SELECT looked_until FROM community_interest_progress
           WHERE campaign_id = $1 AND community_id = $2 AND category = $3""",
        campaign_id,
        *key,
    )
    return looked


async def mentions(
    conn: Any, campaign_id: str, key: Key, since: datetime | None, until: datetime
) -> list[tuple[str, datetime]]:
    """(member, at) of every mention from ``since`` (None: the first) to ``until``, both included, oldest first."""
    rows = await conn.fetch(
        """SELECT member_id, at FROM community_mention_log
           WHERE campaign_id = $1 AND community_id = $2 AND category = $3
             AND at >= COALESCE($4::timestamptz, '-infinity') AND at <= $5
           ORDER BY at, member_id""",
        campaign_id,
        *key,
        since,
        until,
    )
    return [(r["member_id"], r["at"]) for r in rows]


async def fired_near(conn: Any, campaign_id: str, key: Key, since: datetime, until: datetime) -> list[datetime]:
    """When the campaign fired for the key between ``since`` and ``until``."""
    rows = await conn.fetch(
        """SELECT fired_at FROM community_fires
           WHERE campaign_id = $1 AND community_id = $2 AND category = $3 AND fired_at BETWEEN $4 AND $5""",
        campaign_id,
        *key,
        since,
        until,
    )
    return [r["fired_at"] for r in rows]


async def fire(conn: Any, campaign_id: str, key: Key, at: datetime) -> bool:
    """Record that the campaign fires here at ``at``; False if it already had (a batch applied again)."""
    inserted = await conn.fetchval(
        """INSERT INTO community_fires (campaign_id, community_id, category, fired_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1""",
        campaign_id,
        *key,
        at,
    )
    return bool(inserted)


async def looked(conn: Any, campaign_id: str, key: Key, until: datetime, window: timedelta) -> None:
    """The campaign has looked at the key up to ``until``. Mentions older than two windows are let go:
    one window back they count for nothing more, and a second one is kept for a late mention, which
    sends the campaign back to look again from it."""
    await conn.execute(
        """INSERT INTO community_interest_progress AS p (campaign_id, community_id, category, looked_until)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (campaign_id, community_id, category) DO UPDATE SET looked_until = EXCLUDED.looked_until""",
        campaign_id,
        *key,
        until,
    )
    await conn.execute(
        """DELETE FROM community_mention_log
           WHERE campaign_id = $1 AND community_id = $2 AND category = $3 AND at < $4""",
        campaign_id,
        *key,
        until - 2 * window,
    )
