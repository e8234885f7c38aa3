"""Per-provider token buckets in Postgres: one row-locked UPDATE takes tokens, so every replica shares one limit.

The bucket refills continuously at ``rate_per_s`` up to ``capacity`` (the burst allowed after a
quiet spell). The database clock is the only clock, so replicas on different hosts agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BucketConfig:
    provider: str
    rate_per_s: float
    capacity: float


@dataclass(frozen=True)
class Grant:
    tokens: int
    # Seconds until the next whole token, when none was granted: how long the caller may sleep.
    wait_s: float


async def configure(conn: Any, bucket: BucketConfig) -> None:
    """Create the bucket full, or apply a changed rate and capacity without refilling it."""
    await conn.execute(
        """INSERT INTO rate_buckets (provider, tokens, capacity, rate_per_s, updated_at)
           VALUES ($1, $3, $3, $2, clock_timestamp())
           ON CONFLICT (provider) DO UPDATE
           SET rate_per_s = EXCLUDED.rate_per_s, capacity = EXCLUDED.capacity,
               tokens = least(rate_buckets.tokens, EXCLUDED.capacity)""",
        bucket.provider,
        bucket.rate_per_s,
        bucket.capacity,
    )


async def take(conn: Any, provider: str, wanted: int) -> Grant:
    """Take up to ``wanted`` whole tokens now."""
    row = await conn.fetchrow(
        """WITH b AS (
               SELECT provider, rate_per_s, clock_timestamp() AS at,
                      least(capacity, tokens + extract(epoch FROM clock_timestamp() - updated_at) * rate_per_s)
                          AS available
               FROM rate_buckets WHERE provider = $1 FOR UPDATE),
           g AS (SELECT *, least($2::float8, greatest(floor(available), 0)) AS granted FROM b)
           UPDATE rate_buckets r SET tokens = g.available - g.granted, updated_at = g.at
           FROM g WHERE r.provider = g.provider
           RETURNING g.granted::int AS granted, g.available, g.rate_per_s""",
        provider,
        wanted,
    )
    if row is None:
        raise LookupError(f"no rate bucket named {provider!r}; configure() it first")
    granted = row["granted"]
    wait = 0.0 if granted else max(0.0, (1.0 - row["available"]) / row["rate_per_s"])
    return Grant(granted, wait)


async def give_back(conn: Any, provider: str, tokens: int) -> None:
    """Return tokens taken but not used (fewer sends were due than tokens granted)."""
    if tokens > 0:
        await conn.execute(
            "UPDATE rate_buckets SET tokens = least(capacity, tokens + $2) WHERE provider = $1", provider, tokens
        )
