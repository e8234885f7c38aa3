"""ingest's tables, batch at a time: identity links, members, registries, order history, unknown refs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from services.ingest.domain.model import Identifier
from services.ingest.domain.purchases import OrderState, Product, Store
from shared.kafka.records import RetryBatch


class LinkRace(RetryBatch):
    """Another consumer linked one of these identifiers concurrently: the batch is retried."""


async def links_for(conn: Any, digests: Collection[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT digest, member_id FROM identity_links WHERE digest = ANY($1::text[])", list(digests)
    )
    return {row["digest"]: row["member_id"] for row in rows}


async def first_seen(conn: Any, member_ids: Collection[str]) -> dict[str, datetime]:
    rows = await conn.fetch(
        "SELECT member_id, first_seen_at FROM member_identities WHERE member_id = ANY($1::text[])", list(member_ids)
    )
    return {row["member_id"]: row["first_seen_at"] for row in rows}


async def save_links(conn: Any, links: Mapping[Identifier, str], fresh: Collection[Identifier]) -> None:
    """Upsert links; ``fresh`` ones were unknown when the batch read them, so a conflict there is a race."""
    if fresh:
        inserted = await conn.fetch(
            """INSERT INTO identity_links (digest, kind, member_id)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
               ON CONFLICT (digest) DO NOTHING RETURNING digest""",
            [i.digest for i in fresh],
            [i.kind.value for i in fresh],
            [links[i] for i in fresh],
        )
        if len(inserted) != len(fresh):
            raise LinkRace(f"{len(fresh) - len(inserted)} identifiers were linked concurrently")
    relinked = [i for i in links if i not in fresh]
    if relinked:
        await conn.execute(
            """UPDATE identity_links AS l SET member_id = v.member_id, linked_at = now()
               FROM unnest($1::text[], $2::text[]) AS v(digest, member_id) WHERE l.digest = v.digest""",
            [i.digest for i in relinked],
            [links[i] for i in relinked],
        )


async def fold_member(conn: Any, merged: str, survivor: str) -> None:
    await conn.execute(
        "UPDATE identity_links SET member_id = $2, linked_at = now() WHERE member_id = $1", merged, survivor
    )
    await conn.execute("UPDATE member_identities SET merged_into = $2 WHERE member_id = $1", merged, survivor)


async def touch_members(conn: Any, seen: Iterable[tuple[str, str, datetime]]) -> None:
    """Record (member_id, source, event time) sightings; the first sighting by event time sticks."""
    # One row per member: ON CONFLICT cannot update the same row twice in one statement.
    spans: dict[str, tuple[str, datetime, datetime]] = {}
    for member_id, source, when in seen:
        first_source, first, last = spans.get(member_id, (source, when, when))
        if when < first:
            first_source, first = source, when
        spans[member_id] = (first_source, first, max(last, when))
    if not spans:
        return
    await conn.execute(
        """INSERT INTO member_identities (member_id, first_source, first_seen_at, last_seen_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) ORDER BY 1
           ON CONFLICT (member_id) DO UPDATE
           SET first_seen_at = least(member_identities.first_seen_at, excluded.first_seen_at),
               last_seen_at = greatest(member_identities.last_seen_at, excluded.last_seen_at)""",
        list(spans),
        [span[0] for span in spans.values()],
        [span[1] for span in spans.values()],
        [span[2] for span in spans.values()],
    )


async def stores_for(conn: Any, store_ids: Collection[str]) -> dict[str, Store]:
    rows = await conn.fetch(
        "SELECT store_id, name, timezone, region, city FROM stores WHERE store_id = ANY($1::text[])", list(store_ids)
    )
    return {row["store_id"]: Store(**dict(row)) for row in rows}


async def store_zones(conn: Any) -> dict[str, str]:
    """Every registered store's IANA time zone."""
    return {row["store_id"]: row["timezone"] for row in await conn.fetch("SELECT store_id, timezone FROM stores")}


async def products_for(conn: Any, skus: Collection[str]) -> dict[str, Product]:
    rows = await conn.fetch(
        "SELECT sku, name, category, brand, price_tier FROM products WHERE sku = ANY($1::text[])", list(skus)
    )
    return {row["sku"]: Product(**dict(row)) for row in rows}


async def lock_orders(conn: Any, order_ids: Collection[str]) -> dict[str, OrderState]:
    rows = await conn.fetch(
        "SELECT order_id, state::text AS state FROM ecom_orders WHERE order_id = ANY($1::text[]) ORDER BY order_id "
        "FOR UPDATE",
        list(order_ids),
    )
    return {row["order_id"]: OrderState.from_json(json.loads(row["state"])) for row in rows}


async def save_orders(conn: Any, states: Iterable[OrderState]) -> None:
    rows = [(s.order_id, json.dumps(s.to_json())) for s in states]
    if rows:
        await conn.executemany(
            """INSERT INTO ecom_orders (order_id, state) VALUES ($1, $2::text::jsonb)
               ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, updated_at = now()""",
            rows,
        )


async def count_unknown(conn: Any, kind: str, refs: Counter[str]) -> None:
    if refs:
        await conn.execute(
            """INSERT INTO unknown_references (kind, ref, occurrences)
               SELECT $1, r, n FROM unnest($2::text[], $3::bigint[]) AS v(r, n) ORDER BY r
               ON CONFLICT (kind, ref) DO UPDATE
               SET occurrences = unknown_references.occurrences + excluded.occurrences, last_seen_at = now()""",
            kind,
            list(refs),
            list(refs.values()),
        )


async def remember_request(conn: Any, source: str, signature: str, window_s: int) -> bool:
    """Record an authenticated request's signature; False if it was seen inside the replay window."""
    await conn.execute(
        "DELETE FROM webhook_requests WHERE received_at < now() - make_interval(secs => $1)", float(2 * window_s)
    )
    inserted = await conn.fetchval(
        "INSERT INTO webhook_requests (source, signature) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1",
        source,
        signature,
    )
    return inserted is not None


async def _upsert_registry(
    conn: Any, table: str, key: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> int:
    """Insert or refresh registry rows; ``table``, ``key`` and ``columns`` are constants of this module."""
    names = (key, *columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    await conn.executemany(
        f"""INSERT INTO {table} ({", ".join(names)}) VALUES ({", ".join(f"${n}" for n in range(1, len(names) + 1))})
            ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = now()""",  # noqa: S608
        rows,
    )
    return len(rows)


async def upsert_stores(conn: Any, stores: Iterable[Store]) -> int:
    rows = [(s.store_id, s.name, s.timezone, s.region, s.city) for s in stores]
    return await _upsert_registry(conn, "stores", "store_id", ("name", "timezone", "region", "city"), rows)


async def upsert_products(conn: Any, products: Iterable[Product]) -> int:
    rows = [(p.sku, p.name, p.category, p.brand, p.price_tier) for p in products]
    return await _upsert_registry(conn, "products", "sku", ("name", "category", "brand", "price_tier"), rows)
