"""campaigns' own copies of member facts: latest state, consent, purchase rhythm."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.campaigns.domain.members import MemberView
from shared.contracts.offer import Channel, MemberConsentV1
from shared.contracts.state import EngagementTier, Lifecycle, MemberStateV1, ValueTier


async def apply_states(conn: Any, states: Sequence[MemberStateV1]) -> None:
    """Keep each member's newest state (by state version), whatever order states arrive in."""
    latest: dict[str, MemberStateV1] = {}
    for state in states:
        kept = latest.get(state.member_id)
        if kept is None or state.state_version > kept.state_version:
            latest[state.member_id] = state
    if not latest:
        return
    rows = list(latest.values())
    await conn.execute(
        """INSERT INTO members AS m (member_id, state_version, state_at, lifecycle, engagement_tier, value_tier,
                  p_alive, expected_purchases_90d, clv_minor, value_at_risk_minor, home_store_id, region, communities)
           SELECT u.member_id, u.state_version, u.state_at, u.lifecycle, u.engagement_tier, u.value_tier,
                  u.p_alive, u.expected, u.clv, u.var, u.store, u.region,
                  COALESCE(string_to_array(NULLIF(u.communities, ''), E'\\x1f'), '{}')
           FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                       $7::float8[], $8::float8[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[])
                AS u(member_id, state_version, state_at, lifecycle, engagement_tier, value_tier,
                     p_alive, expected, clv, var, store, region, communities)
           ON CONFLICT (member_id) DO UPDATE SET
               state_version = EXCLUDED.state_version, state_at = EXCLUDED.state_at,
               lifecycle = EXCLUDED.lifecycle, engagement_tier = EXCLUDED.engagement_tier,
               value_tier = EXCLUDED.value_tier, p_alive = EXCLUDED.p_alive,
               expected_purchases_90d = EXCLUDED.expected_purchases_90d, clv_minor = EXCLUDED.clv_minor,
               value_at_risk_minor = EXCLUDED.value_at_risk_minor, home_store_id = EXCLUDED.home_store_id,
               region = EXCLUDED.region, communities = EXCLUDED.communities
           WHERE m.state_version IS NULL OR m.state_version < EXCLUDED.state_version""",
        [s.member_id for s in rows],
        [s.state_version for s in rows],
        [s.occurred_at for s in rows],
        [s.lifecycle.value for s in rows],
        [s.engagement_tier.value for s in rows],
        [s.value_tier.value if s.value_tier else None for s in rows],
        [s.p_alive for s in rows],
        [s.expected_purchases_90d for s in rows],
        [s.clv_minor for s in rows],
        [s.value_at_risk_minor for s in rows],
        [s.home_store_id for s in rows],
        [s.region for s in rows],
        ["\x1f".join(s.communities) for s in rows],
    )


async def record_engagement(conn: Any, rows: Sequence[tuple[str, int, datetime, Sequence[str]]]) -> None:
    """(member, state version, at, communities engaged in): every state change's, a redelivered one once."""
    if not rows:
        return
    await conn.execute(
        """INSERT INTO engagement_history (member_id, state_version, at, engaged_in)
           SELECT u.member_id, u.version, u.at, COALESCE(string_to_array(NULLIF(u.engaged, ''), E'\\x1f'), '{}')
           FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[]) AS u(member_id, version, at, engaged)
           ON CONFLICT DO NOTHING""",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        ["\x1f".join(r[3]) for r in rows],
    )


async def engaged_at(conn: Any, community_id: str, at: datetime, tiers: Sequence[str]) -> list[str]:
    """The community's engaged members as of ``at``, by their latest state change up to it. A member
    with no change recorded (stored before the history was kept) counts as stored."""
    rows = await conn.fetch(
        """SELECT member_id FROM (
               SELECT DISTINCT ON (h.member_id) h.member_id, h.engaged_in
               FROM engagement_history h
               WHERE h.member_id IN (SELECT member_id FROM engagement_history WHERE engaged_in @> ARRAY[$1]::text[])
                 AND h.at <= $2
               ORDER BY h.member_id, h.at DESC, h.state_version DESC
           ) latest
           WHERE engaged_in @> ARRAY[$1]::text[]
           UNION
           SELECT m.member_id FROM members m
           WHERE m.communities @> ARRAY[$1]::text[] AND m.engagement_tier = ANY($3::text[])
             AND NOT EXISTS (SELECT 1 FROM engagement_history h WHERE h.member_id = m.member_id)""",
        community_id,
        at,
        list(tiers),
    )
    return sorted(r["member_id"] for r in rows)


async def forget_engagement_before(conn: Any, until: datetime) -> int:
    """Let go of each state change a newer one of the same member, at or before ``until``, supersedes."""
    status: str = await conn.execute(
        """DELETE FROM engagement_history h USING engagement_history newer
           WHERE newer.member_id = h.member_id AND newer.at <= $1
             AND (newer.at, newer.state_version) > (h.at, h.state_version)""",
        until,
    )
    return int(status.split()[-1])


@dataclass(frozen=True)
class Rhythm:
    """A member's purchases as campaigns counts them: how many, first and last."""

    member_id: str
    purchases: int
    first: datetime
    last: datetime


# Purchases add up, first and last widen: the same whether sales arrive or a merged id's rhythm does.
_ADD_TO_RHYTHM = """
           ON CONFLICT (member_id) DO UPDATE SET
               purchases = m.purchases + EXCLUDED.purchases,
               first_purchase_at = LEAST(m.first_purchase_at, EXCLUDED.first_purchase_at),
               last_purchase_at = GREATEST(m.last_purchase_at, EXCLUDED.last_purchase_at)
           RETURNING member_id, purchases, first_purchase_at, last_purchase_at"""


def _rhythm(row: Any) -> Rhythm:
    return Rhythm(row["member_id"], row["purchases"], row["first_purchase_at"], row["last_purchase_at"])


async def rhythms(conn: Any, member_ids: Collection[str]) -> dict[str, Rhythm]:
    """The members' rhythms as counted so far (members without a sale yet are missing)."""
    rows = await conn.fetch(
        """SELECT member_id, purchases, first_purchase_at, last_purchase_at FROM members
           WHERE member_id = ANY($1::text[]) AND purchases > 0""",
        sorted(member_ids),
    )
    return {r["member_id"]: _rhythm(r) for r in rows}


async def apply_sales(conn: Any, sales: Sequence[tuple[str, datetime]]) -> list[Rhythm]:
    """Count (member, time) sales into each member's rhythm; order-independent, so late sales fold in."""
    per_member: dict[str, list[datetime]] = {}
    for member_id, at in sales:
        per_member.setdefault(member_id, []).append(at)
    if not per_member:
        return []
    ids = sorted(per_member)
    rows = await conn.fetch(
        """INSERT INTO members AS m (member_id, purchases, first_purchase_at, last_purchase_at)
           SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::timestamptz[])"""  # noqa: S608 - constants only
        + _ADD_TO_RHYTHM,
        ids,
        [len(per_member[i]) for i in ids],
        [min(per_member[i]) for i in ids],
        [max(per_member[i]) for i in ids],
    )
    return [_rhythm(r) for r in rows]


async def set_replenishment_due(conn: Any, due: Mapping[str, datetime | None]) -> None:
    if not due:
        return
    ids = sorted(due)
    await conn.execute(
        """UPDATE members m SET replenish_due_at = u.due
           FROM unnest($1::text[], $2::timestamptz[]) AS u(member_id, due) WHERE m.member_id = u.member_id""",
        ids,
        [due[i] for i in ids],
    )


async def claim_replenishments(conn: Any, until: datetime, limit: int) -> list[Rhythm]:
    """Members whose next purchase fell due by ``until``; claimed, so a replica never takes them twice."""
    rows = await conn.fetch(
        """UPDATE members m SET replenish_due_at = NULL
           FROM (SELECT member_id FROM members WHERE replenish_due_at <= $1
                 ORDER BY replenish_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
           WHERE m.member_id = due.member_id
           RETURNING m.member_id, m.purchases, m.first_purchase_at, m.last_purchase_at""",
        until,
        limit,
    )
    return [_rhythm(r) for r in rows]


async def claim_replenishments_of(conn: Any, until: Mapping[str, datetime]) -> list[Rhythm]:
    """These members, if their next purchase fell due by their own time in ``until``; claimed."""
    ids = sorted(until)
    rows = await conn.fetch(
        """UPDATE members m SET replenish_due_at = NULL
           FROM unnest($1::text[], $2::timestamptz[]) AS u(member_id, until)
           WHERE m.member_id = u.member_id AND m.replenish_due_at <= u.until
           RETURNING m.member_id, m.purchases, m.first_purchase_at, m.last_purchase_at""",
        ids,
        [until[i] for i in ids],
    )
    return [_rhythm(r) for r in rows]


async def apply_consents(conn: Any, consents: Sequence[MemberConsentV1]) -> None:
    """Latest consent per member and channel by event time: an old opt-in never undoes a newer opt-out."""
    latest: dict[tuple[str, str], MemberConsentV1] = {}
    for consent in consents:
        key = (consent.member_id, consent.channel.value)
        if key not in latest or consent.occurred_at >= latest[key].occurred_at:
            latest[key] = consent
    if not latest:
        return
    keys = sorted(latest)
    await conn.execute(
        """INSERT INTO consents AS c (member_id, channel, granted, at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bool[], $4::timestamptz[])
           ON CONFLICT (member_id, channel) DO UPDATE SET granted = EXCLUDED.granted, at = EXCLUDED.at
           WHERE c.at <= EXCLUDED.at""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [latest[k].granted for k in keys],
        [latest[k].occurred_at for k in keys],
    )


def _placed(
    store: str | None, region: str | None, zones: Mapping[str, tuple[str, str | None]], default_zone: ZoneInfo
) -> tuple[ZoneInfo, str | None]:
    """A member's time zone and region: their home store's, unless scoring named the region."""
    zone_name, store_region = zones.get(store, (None, None)) if store else (None, None)
    return (ZoneInfo(zone_name) if zone_name else default_zone), region or store_region


async def load_views(
    conn: Any, member_ids: Sequence[str], zones: Mapping[str, tuple[str, str | None]], default_zone: ZoneInfo
) -> dict[str, MemberView]:
    """Every member's view, one statement; ``zones`` maps a store to its (timezone, region)."""
    rows = await conn.fetch(
        """SELECT u.member_id, m.state_version, m.lifecycle, m.engagement_tier, m.value_tier, m.p_alive,
                  m.clv_minor, m.value_at_risk_minor, m.home_store_id, m.region, m.communities,
                  (SELECT array_agg(c.channel || ':' || c.granted::text) FROM consents c
                    WHERE c.member_id = u.member_id) AS consent
           FROM unnest($1::text[]) AS u(member_id) LEFT JOIN members m ON m.member_id = u.member_id""",
        list(member_ids),
    )
    views = {}
    for r in rows:
        store = r["home_store_id"]
        zone, region = _placed(store, r["region"], zones, default_zone)
        consent = {}
        for entry in r["consent"] or ():
            channel, _, granted = entry.partition(":")
            consent[Channel(channel)] = granted == "true"
        views[r["member_id"]] = MemberView(
            member_id=r["member_id"],
            zone=zone,
            lifecycle=Lifecycle(r["lifecycle"]) if r["lifecycle"] else None,
            engagement_tier=EngagementTier(r["engagement_tier"]) if r["engagement_tier"] else None,
            value_tier=ValueTier(r["value_tier"]) if r["value_tier"] else None,
            p_alive=r["p_alive"],
            clv_minor=r["clv_minor"],
            value_at_risk_minor=r["value_at_risk_minor"],
            home_store_id=store,
            region=region,
            communities=tuple(r["communities"] or ()),
            consent=consent,
            state_version=r["state_version"],
        )
    return views


def view_after(
    before: MemberView, state: MemberStateV1, zones: Mapping[str, tuple[str, str | None]], default_zone: ZoneInfo
) -> MemberView:
    """The member once ``state`` is applied: what apply_states would store, read back as load_views reads it."""
    zone, region = _placed(state.home_store_id, state.region, zones, default_zone)
    return replace(
        before,
        zone=zone,
        lifecycle=state.lifecycle,
        engagement_tier=state.engagement_tier,
        value_tier=state.value_tier,
        p_alive=state.p_alive,
        clv_minor=state.clv_minor,
        value_at_risk_minor=state.value_at_risk_minor,
        home_store_id=state.home_store_id,
        region=region,
        communities=tuple(state.communities),
        state_version=state.state_version,
    )


async def survivors_of(conn: Any, member_ids: Collection[str]) -> dict[str, str]:
    """Merged ids among ``member_ids``, each with the member it was merged into."""
    if not member_ids:
        return {}
    rows = await conn.fetch(
        "SELECT merged_id, survivor FROM merged_members WHERE merged_id = ANY($1::text[])", sorted(member_ids)
    )
    return {row["merged_id"]: row["survivor"] for row in rows}


async def fold_merge(conn: Any, survivor: str, merged: str, at: datetime) -> Rhythm | None:
    """Fold ``merged`` into ``survivor``: the pointer, purchase rhythm and consents; returns the survivor's rhythm.

    Lifecycle and tiers are not folded: scoring merges them and publishes the survivor's new state.
    Consents keep the latest statement per channel, whichever id it was made under.
    """
    await conn.execute(
        """WITH pointed AS (
               INSERT INTO merged_members (merged_id, survivor, merged_at) VALUES ($2, $1, $3)
               ON CONFLICT (merged_id) DO NOTHING)
           UPDATE merged_members SET survivor = $1 WHERE survivor = $2""",
        survivor,
        merged,
        at,
    )
    await conn.execute(
        """WITH gone AS (DELETE FROM consents WHERE member_id = $2 RETURNING channel, granted, at)
           INSERT INTO consents AS c (member_id, channel, granted, at)
           SELECT $1, channel, granted, at FROM gone
           ON CONFLICT (member_id, channel) DO UPDATE SET granted = EXCLUDED.granted, at = EXCLUDED.at
           WHERE EXCLUDED.at > c.at""",
        survivor,
        merged,
    )
    row = await conn.fetchrow(
        """WITH gone AS (DELETE FROM members WHERE member_id = $2
                         RETURNING purchases, first_purchase_at, last_purchase_at)
           INSERT INTO members AS m (member_id, purchases, first_purchase_at, last_purchase_at)
           SELECT $1, purchases, first_purchase_at, last_purchase_at FROM gone"""  # noqa: S608 - constants only
        + _ADD_TO_RHYTHM,
        survivor,
        merged,
    )
    if row is None or row["first_purchase_at"] is None:
        return None
    return _rhythm(row)
