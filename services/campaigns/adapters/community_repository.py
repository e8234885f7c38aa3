"""Who asked about what in each community, and when a campaign last fired there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any


async def record_mentions(conn: Any, mentions: Sequence[tuple[str, str, str, datetime]]) -> None:
    """(community, category, member, at): each member counts once per community and category."""
    latest: dict[tuple[str, str, str], datetime] = {}
    for community, category, member, at in mentions:
        key = (community, category, member)
        latest[key] = max(at, latest.get(key, at))
    if not latest:
        return
    keys = sorted(latest)
    await conn.execute(
        """INSERT INTO community_mentions AS m (community_id, category, member_id, last_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
           ON CONFLICT (community_id, category, member_id)
           DO UPDATE SET last_at = GREATEST(m.last_at, EXCLUDED.last_at)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [latest[k] for k in keys],
    )


async def asked_since(
    conn: Any, keys: Sequence[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], dict[str, datetime]]:
    """Per (community, category): each member who asked since ``since``, with their latest mention."""
    rows = await conn.fetch(
        """SELECT m.community_id, m.category, m.member_id, m.last_at
           FROM community_mentions m JOIN unnest($1::text[], $2::text[]) AS k(community_id, category)
             ON m.community_id = k.community_id AND m.category = k.category
           WHERE m.last_at >= $3""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        since,
    )
    asked: dict[tuple[str, str], dict[str, datetime]] = {}
    for r in rows:
        asked.setdefault((r["community_id"], r["category"]), {})[r["member_id"]] = r["last_at"]
    return asked


async def last_fired(conn: Any, campaign_id: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """Per (community, category): when the campaign last fired there."""
    rows = await conn.fetch(
        """SELECT f.community_id, f.category, max(f.fired_at) AS fired_at
           FROM community_fires f JOIN unnest($2::text[], $3::text[]) AS k(community_id, category)
             ON f.community_id = k.community_id AND f.category = k.category
           WHERE f.campaign_id = $1 GROUP BY 1, 2""",
        campaign_id,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["community_id"], r["category"]): r["fired_at"] for r in rows}


async def fire(
    conn: Any, campaign_id: str, community_id: str, category: str, at: datetime, cooldown: timedelta
) -> bool:
    """Record that the campaign fires here now, unless it already fired within the cooldown."""
    # The advisory lock makes the check-then-insert atomic between replicas.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{campaign_id}\x1f{community_id}\x1f{category}")
    inserted = await conn.fetchval(
        """INSERT INTO community_fires (campaign_id, community_id, category, fired_at)
           SELECT $1, $2, $3, $4::timestamptz WHERE NOT EXISTS (
               SELECT 1 FROM community_fires WHERE campaign_id = $1 AND community_id = $2 AND category = $3
                 AND fired_at > $4::timestamptz - $5::interval AND fired_at < $4::timestamptz + $5::interval)
           ON CONFLICT DO NOTHING RETURNING 1""",
        campaign_id,
        community_id,
        category,
        at,
        cooldown,
    )
    return bool(inserted)
