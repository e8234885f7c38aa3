"""The send ledger: one row per (offer, channel), which is also the scheduled-send table.

A pending row carries ``due_at``. Claiming a row moves it to ``sending`` with ``due_at`` pushed
to the end of a lease, in its own committed transaction, before the provider is called. If the
replica dies mid-send the lease runs out and another replica resumes the row with the same
idempotency key, so the provider sees one message. Results are written only while the row is
still the claimer's (same status and attempt count), so a replica that lost its lease cannot
overwrite what the next one did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notifier.domain.messages import Contact
from shared.contracts import Channel, OfferIssuedV1

PENDING = ("queued", "deferred", "retrying", "sending")


@dataclass(frozen=True)
class NewSend:
    offer: OfferIssuedV1
    channel: Channel
    fallbacks: tuple[Channel, ...]
    status: str
    due_at: datetime | None
    error_code: str | None = None


@dataclass(frozen=True)
class ClaimedSend:
    offer: OfferIssuedV1
    channel: Channel
    fallbacks: tuple[Channel, ...]
    attempts: int
    contact: Contact | None
    opted_out: bool
    # When it fell due, and whether a replica that held it before died mid-send.
    was_due: datetime
    resumed: bool


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed send; ``due_at`` is set only for a retry."""

    offer_id: str
    channel: Channel
    attempts: int
    status: str
    due_at: datetime | None = None
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    # What the claim read, carried along so recording need not read the offer back.
    offer: OfferIssuedV1 | None = None
    fallbacks: tuple[Channel, ...] = ()


async def insert(conn: Any, sends: Sequence[NewSend]) -> list[NewSend]:
    """Insert new ledger rows; returns those that were new (a redelivered offer inserts nothing)."""
    if not sends:
        return []
    rows = await conn.fetch(
        """INSERT INTO sends (offer_id, channel, member_id, offer, fallbacks, status, due_at, error_code)
           SELECT u.offer_id, u.channel, u.member_id, u.offer::jsonb,
                  COALESCE(string_to_array(NULLIF(u.fallbacks, ''), ','), '{}'), u.status, u.due_at, u.error_code
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::timestamptz[], $8::text[])
                AS u(offer_id, channel, member_id, offer, fallbacks, status, due_at, error_code)
           ON CONFLICT (offer_id, channel) DO NOTHING
           RETURNING offer_id, channel""",
        [s.offer.offer_id for s in sends],
        [s.channel.value for s in sends],
        [s.offer.member_id for s in sends],
        [s.offer.model_dump_json() for s in sends],
        [",".join(c.value for c in s.fallbacks) for s in sends],
        [s.status for s in sends],
        [s.due_at for s in sends],
        [s.error_code for s in sends],
    )
    inserted = {(r["offer_id"], r["channel"]) for r in rows}
    return [s for s in sends if (s.offer.offer_id, s.channel.value) in inserted]


async def claim(conn: Any, channel: Channel, limit: int, lease_s: float) -> list[ClaimedSend]:
    """Claim up to ``limit`` due sends of one channel, oldest due first, skipping rows others hold."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT offer_id, channel, member_id, due_at, status FROM sends
               WHERE channel = $1 AND due_at <= now()
               ORDER BY due_at
               LIMIT $2
               FOR UPDATE SKIP LOCKED)
           UPDATE sends s
           SET status = 'sending', attempts = s.attempts + 1, updated_at = now(),
               due_at = now() + make_interval(secs => $3)
           FROM due
           LEFT JOIN contacts c ON c.member_id = due.member_id
           LEFT JOIN consents k ON k.member_id = due.member_id AND k.channel = due.channel
           WHERE s.offer_id = due.offer_id AND s.channel = due.channel
           RETURNING s.offer::text AS offer, s.fallbacks, s.attempts, c.member_id AS contact_member_id,
                     c.phone, c.email, c.wechat_openid, c.app_user_id, c.locale, c.time_zone,
                     COALESCE(NOT k.granted, false) AS opted_out, due.due_at AS was_due,
                     due.status = 'sending' AS resumed""",
        channel.value,
        limit,
        lease_s,
    )
    claimed = []
    for row in rows:
        offer = OfferIssuedV1.model_validate_json(row["offer"])
        contact = None
        if row["contact_member_id"] is not None:
            contact = Contact(
                member_id=row["contact_member_id"],
                phone=row["phone"],
                email=row["email"],
                wechat_openid=row["wechat_openid"],
                app_user_id=row["app_user_id"],
                locale=row["locale"],
                time_zone=row["time_zone"],
            )
        claimed.append(
            ClaimedSend(
                offer=offer,
                channel=channel,
                fallbacks=tuple(Channel(c) for c in row["fallbacks"]),
                attempts=row["attempts"],
                contact=contact,
                opted_out=row["opted_out"],
                was_due=row["was_due"],
                resumed=row["resumed"],
            )
        )
    return claimed


async def record(conn: Any, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Write outcomes for rows this replica still holds; returns the ones written."""
    if not outcomes:
        return []
    rows = await conn.fetch(
        """UPDATE sends s
           SET status = u.status, due_at = u.due_at, provider_message_id = COALESCE(u.pmid, s.provider_message_id),
               error_code = u.code, error_message = u.msg, updated_at = now(),
               sent_at = CASE WHEN u.status = 'sent' THEN now() ELSE s.sent_at END
           FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
                       $8::text[]) AS u(offer_id, channel, attempts, status, due_at, pmid, code, msg)
           WHERE s.offer_id = u.offer_id AND s.channel = u.channel AND s.attempts = u.attempts
             AND s.status = 'sending'
           RETURNING s.offer_id, s.channel""",
        [o.offer_id for o in outcomes],
        [o.channel.value for o in outcomes],
        [o.attempts for o in outcomes],
        [o.status for o in outcomes],
        [o.due_at for o in outcomes],
        [o.provider_message_id for o in outcomes],
        [o.error_code for o in outcomes],
        [o.error_message for o in outcomes],
    )
    written = {(row["offer_id"], row["channel"]) for row in rows}
    return [o for o in outcomes if (o.offer_id, o.channel.value) in written]


async def apply_receipt(
    conn: Any, channel: Channel, provider_message_id: str, error_code: str | None
) -> tuple[str, str] | None:
    """Apply a delivery receipt (``error_code`` None: delivered); returns (offer id, member id), or None
    when the message is unknown or its receipt was applied before."""
    row = await conn.fetchrow(
        """UPDATE sends SET status = CASE WHEN $3::text IS NULL THEN 'delivered' ELSE 'failed' END,
                  error_code = $3, updated_at = now()
           WHERE channel = $1 AND provider_message_id = $2 AND status = 'sent'
           RETURNING offer_id, member_id""",
        channel.value,
        provider_message_id,
        error_code,
    )
    return None if row is None else (row["offer_id"], row["member_id"])


async def counts(conn: Any) -> dict[tuple[str, str], int]:
    """Sends by (channel, status): for reports and gauges."""
    rows = await conn.fetch("SELECT channel, status, count(*) AS n FROM sends GROUP BY channel, status")
    return {(r["channel"], r["status"]): r["n"] for r in rows}


async def due_count(conn: Any) -> int:
    return await conn.fetchval("SELECT count(*) FROM sends WHERE due_at <= now()")  # type: ignore[no-any-return]
