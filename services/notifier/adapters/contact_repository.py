"""Contact points and consent, as the notifier keeps them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from services.notifier.domain.messages import Contact
from shared.contracts import Channel, MemberConsentV1

_FIELDS = ("phone", "email", "wechat_openid", "app_user_id", "locale", "time_zone")


async def upsert_contacts(conn: Any, contacts: Sequence[Contact]) -> int:
    """Insert or replace contacts (the chain's CRM export is the source of truth); returns how many."""
    if not contacts:
        return 0
    await conn.execute(
        """INSERT INTO contacts (member_id, phone, email, wechat_openid, app_user_id, locale, time_zone)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
           ON CONFLICT (member_id) DO UPDATE SET
               phone = EXCLUDED.phone, email = EXCLUDED.email, wechat_openid = EXCLUDED.wechat_openid,
               app_user_id = EXCLUDED.app_user_id, locale = EXCLUDED.locale, time_zone = EXCLUDED.time_zone,
               updated_at = now()""",
        [c.member_id for c in contacts],
        *([getattr(c, name) for c in contacts] for name in _FIELDS),
    )
    return len(contacts)


async def contacts_of(conn: Any, member_ids: Collection[str]) -> dict[str, Contact]:
    rows = await conn.fetch(
        f"SELECT member_id, {', '.join(_FIELDS)} FROM contacts WHERE member_id = ANY($1::text[])",  # noqa: S608
        list(member_ids),
    )
    return {r["member_id"]: Contact(**dict(r)) for r in rows}


async def members_with_phone(conn: Any, phone: str) -> list[str]:
    rows = await conn.fetch("SELECT member_id FROM contacts WHERE phone = $1 ORDER BY member_id", phone)
    return [r["member_id"] for r in rows]


async def opted_out(conn: Any, member_ids: Collection[str]) -> dict[str, set[Channel]]:
    rows = await conn.fetch(
        "SELECT member_id, channel FROM consents WHERE NOT granted AND member_id = ANY($1::text[])",
        list(member_ids),
    )
    result: dict[str, set[Channel]] = {}
    for row in rows:
        result.setdefault(row["member_id"], set()).add(Channel(row["channel"]))
    return result


async def apply_consents(conn: Any, consents: Sequence[MemberConsentV1]) -> None:
    """Keep the latest consent per member and channel by event time, whatever order they arrive in."""
    if not consents:
        return
    await conn.execute(
        """INSERT INTO consents AS k (member_id, channel, granted, source, occurred_at)
           SELECT DISTINCT ON (member_id, channel) *
           FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::timestamptz[])
                AS u(member_id, channel, granted, source, occurred_at)
           ORDER BY member_id, channel, occurred_at DESC
           ON CONFLICT (member_id, channel) DO UPDATE
           SET granted = EXCLUDED.granted, source = EXCLUDED.source, occurred_at = EXCLUDED.occurred_at
           WHERE k.occurred_at <= EXCLUDED.occurred_at""",
        [c.member_id for c in consents],
        [c.channel.value for c in consents],
        [c.granted for c in consents],
        [c.source for c in consents],
        [c.occurred_at for c in consents],
    )


async def spend_unsubscribe_token(conn: Any, token_id: str, member_id: str, at: datetime) -> bool:
    """Mark an unsubscribe token spent; False when it was spent before (links are single-use)."""
    spent = await conn.fetchval(
        """INSERT INTO spent_unsubscribe_tokens (token_id, member_id, spent_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING 1""",
        token_id,
        member_id,
        at,
    )
    return spent is not None
