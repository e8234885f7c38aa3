"""Member state in the scoring schema, a whole batch per statement.

Rows map one to one onto ``MemberState`` fields (the column names are the field names), so the
table and the dataclass cannot drift apart unnoticed: a unit test compares them with the
migration.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any

from services.scoring.domain.lifecycle import Transition
from services.scoring.domain.member import MemberState, restore
from shared.contracts import EngagementTier, Lifecycle, ValueTier

COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(MemberState))
_COLUMN_LIST = ", ".join(COLUMNS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "member_id")
_ENUMS = {"lifecycle": Lifecycle, "engagement_tier": EngagementTier, "value_tier": ValueTier}


# Stored text → enum member, looked up rather than called (Enum's __call__ is slow for wide batches).
_ENUM_MEMBERS = {column: {member.value: member for member in enum} for column, enum in _ENUMS.items()}


def state_from_row(row: Any) -> MemberState:
    values = dict(row.items())
    for column, members in _ENUM_MEMBERS.items():
        if (stored := values[column]) is not None:
            values[column] = members[stored]
    values["reasons"] = tuple(values["reasons"])
    return restore(values)


_ALL_FIELDS = attrgetter(*COLUMNS)
_ENUM_POSITIONS = tuple(COLUMNS.index(column) for column in _ENUMS)


def _row(state: MemberState) -> list[Any]:
    """The state's values in COLUMNS order, enums as their stored text (reasons stay a tuple)."""
    values = list(_ALL_FIELDS(state))
    for position in _ENUM_POSITIONS:
        if values[position] is not None:
            values[position] = values[position].value
    return values


async def load(conn: Any, member_ids: Collection[str]) -> dict[str, MemberState]:
    """The members, locked for this transaction in id order (so two consumers never deadlock)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMN_LIST} FROM members WHERE member_id = ANY($1::text[]) ORDER BY member_id FOR UPDATE",  # noqa: S608
        sorted(member_ids),
    )
    return {row["member_id"]: state_from_row(row) for row in rows}


async def get(conn: Any, member_id: str) -> MemberState | None:
    row = await conn.fetchrow(f"SELECT {_COLUMN_LIST} FROM members WHERE member_id = $1", member_id)  # noqa: S608
    return state_from_row(row) if row else None


async def claim_due(conn: Any, until: datetime, limit: int) -> list[MemberState]:
    """Members due for review by ``until``, oldest first; rows other sweepers hold are skipped."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMN_LIST} FROM members WHERE next_review_at <= $1
            ORDER BY next_review_at LIMIT $2 FOR UPDATE SKIP LOCKED""",  # noqa: S608
        until,
        limit,
    )
    return [state_from_row(row) for row in rows]


async def earliest_review(conn: Any) -> datetime | None:
    """The earliest review still to make, as this transaction sees the members (index ``members_due``).

    Rows another transaction is changing count with their committed due time, so a review being
    made elsewhere right now still counts as not made.
    """
    return await conn.fetchval("SELECT min(next_review_at) FROM members WHERE next_review_at IS NOT NULL")  # type: ignore[no-any-return]


async def save(conn: Any, states: Iterable[MemberState], created: Collection[str] = ()) -> set[str]:
    """Write the states; the ids in ``created`` that another transaction created first.

    Rows loaded with ``load`` are locked, so overwriting them is safe. A row this transaction
    creates is not: two consumers can both find a member missing (a merge on the survivor's
    partition leaves a pointer under the merged id while that id's own partition, on another
    replica, applies its first purchase), and the later upsert would overwrite the earlier row.
    So new rows are only inserted, never upserted; the caller retries the batch for any that were
    taken, and then finds and locks them.
    """
    rows = [_row(state) for state in states]
    fresh = [row for row in rows if row[0] in created]
    if kept := [row for row in rows if row[0] not in created]:
        await conn.execute(_UPSERT_SQL, *_as_arrays(kept))
    if not fresh:
        return set()
    found = await conn.fetch(_INSERT_NEW_SQL, *_as_arrays(fresh))
    return {row[0] for row in fresh} - {r["member_id"] for r in found}


# Reason codes ([a-z_]) travel into ``unnest`` as one comma-joined text each (it would flatten a
# text[][]); this turns the column ``u.reasons`` back into a text[].
_REASONS_FROM_TEXT = "COALESCE(string_to_array(NULLIF(u.reasons, ''), ','), '{}')"


def _as_arrays(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """The rows as one array per column, for the statements over ``unnest``."""
    columns = [list(values) for values in zip(*rows, strict=True)]
    reasons = COLUMNS.index("reasons")
    columns[reasons] = [",".join(codes) for codes in columns[reasons]]
    return columns


# Column types for the insert of new rows, in COLUMNS order; a unit test checks them against the migration.
SQL_TYPES: dict[str, str] = {
    "member_id": "text",
    "merged_into": "text",
    "first_seen_at": "timestamptz",
    "clock": "timestamptz",
    "lifecycle": "text",
    "lifecycle_since": "timestamptz",
    "reasons": "text[]",
    "engagement_tier": "text",
    "active_until": "timestamptz",
    "engaged_until": "timestamptz",
    "contribution_score": "double precision",
    "reaction_score": "double precision",
    "scores_at": "timestamptz",
    "last_interaction_at": "timestamptz",
    "last_left_at": "timestamptz",
    "last_unfollowed_at": "timestamptz",
    "last_complaint_at": "timestamptz",
    "first_purchase_at": "timestamptz",
    "last_purchase_at": "timestamptz",
    "home_store_id": "text",
    "sales": "integer",
    "refunds": "integer",
    "sales_minor": "bigint",
    "refunds_minor": "bigint",
    "value_tier": "text",
    "p_alive": "double precision",
    "expected_purchases": "double precision",
    "clv_minor": "bigint",
    "value_at_risk_minor": "bigint",
    "next_review_at": "timestamptz",
    "state_version": "integer",
}


def _from_arrays_sql(on_conflict: str) -> str:
    """One statement text for any number of rows, so Postgres plans it once per connection.

    (A multi-row VALUES list sized to the batch was a new statement, parsed and planned anew,
    for every batch size: scoring's p99 at 2,000 events/s went from ~0.3 s to ~2 s with it. And
    a statement per row, ``executemany``, runs the executor once per row.)
    """
    arrays = ", ".join(
        f"${n}::text[]" if column == "reasons" else f"${n}::{SQL_TYPES[column]}[]"
        for n, column in enumerate(COLUMNS, start=1)
    )
    selected = ", ".join(_REASONS_FROM_TEXT if column == "reasons" else f"u.{column}" for column in COLUMNS)
    return f"""INSERT INTO members ({_COLUMN_LIST})
               SELECT {selected} FROM unnest({arrays}) AS u({_COLUMN_LIST})
               ON CONFLICT (member_id) {on_conflict}"""  # noqa: S608


_INSERT_NEW_SQL = _from_arrays_sql("DO NOTHING RETURNING member_id")
_UPSERT_SQL = _from_arrays_sql(f"DO UPDATE SET {_UPDATES}")


async def record_transitions(conn: Any, transitions: Sequence[Transition]) -> None:
    """The transition log, one statement over arrays for the whole batch."""
    if not transitions:
        return
    afters = [t.after for t in transitions]
    await conn.execute(
        f"""INSERT INTO transitions (member_id, state_version, at, from_lifecycle, to_lifecycle, engagement_tier,
                                    value_tier, reasons)
           SELECT u.member_id, u.state_version, u.at, u.from_lifecycle, u.to_lifecycle, u.engagement_tier,
                  u.value_tier, {_REASONS_FROM_TEXT}
           FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[])
                AS u(member_id, state_version, at, from_lifecycle, to_lifecycle, engagement_tier, value_tier, reasons)
           ON CONFLICT DO NOTHING""",  # noqa: S608 - constant SQL text, values are parameters
        [a.member_id for a in afters],
        [a.state_version for a in afters],
        [t.at for t in transitions],
        [t.before.lifecycle.value if t.before else None for t in transitions],
        [a.lifecycle.value for a in afters],
        [a.engagement_tier.value for a in afters],
        [a.value_tier.value if a.value_tier else None for a in afters],
        [",".join(a.reasons) for a in afters],
    )


async def recent_transitions(conn: Any, member_id: str, limit: int = 20) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT state_version, at, from_lifecycle, to_lifecycle, engagement_tier, value_tier, reasons
           FROM transitions WHERE member_id = $1 ORDER BY state_version DESC LIMIT $2""",
        member_id,
        limit,
    )
    return [dict(row) for row in rows]


async def record_sales(conn: Any, sales: Sequence[tuple[str, str, datetime, int]]) -> None:
    """(member, purchase id, time, amount) of each sale, for fits as of any date."""
    if sales:
        await conn.execute(
            """INSERT INTO sales (member_id, purchase_id, at, amount_minor)
               SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[])
               ON CONFLICT DO NOTHING""",
            [s[0] for s in sales],
            [s[1] for s in sales],
            [s[2] for s in sales],
            [s[3] for s in sales],
        )


async def move_member_rows(conn: Any, merged: str, survivor: str) -> None:
    """A merge hands the merged member's sales and community memberships to the survivor."""
    await conn.execute("UPDATE sales SET member_id = $2 WHERE member_id = $1", merged, survivor)
    await conn.execute(
        """INSERT INTO community_members (community_id, member_id, present, since)
           SELECT community_id, $2, present, since FROM community_members WHERE member_id = $1
           ON CONFLICT (community_id, member_id) DO UPDATE SET present = excluded.present, since = excluded.since
           WHERE excluded.since > community_members.since""",
        merged,
        survivor,
    )
    await conn.execute("DELETE FROM community_members WHERE member_id = $1", merged)


async def communities_of(conn: Any, member_ids: Collection[str]) -> dict[str, tuple[str, ...]]:
    rows = await conn.fetch(
        """SELECT member_id, array_agg(community_id ORDER BY community_id) AS communities FROM community_members
           WHERE member_id = ANY($1::text[]) AND present GROUP BY member_id""",
        list(member_ids),
    )
    return {row["member_id"]: tuple(row["communities"]) for row in rows}


async def population(conn: Any) -> list[tuple[str, str, str, int]]:
    """Members not merged away, counted by (engagement tier, value tier, lifecycle)."""
    rows = await conn.fetch(
        """SELECT engagement_tier, COALESCE(value_tier, 'unknown') AS value_tier, lifecycle, count(*) AS n
           FROM members WHERE merged_into IS NULL GROUP BY 1, 2, 3"""
    )
    return [(r["engagement_tier"], r["value_tier"], r["lifecycle"], r["n"]) for r in rows]
