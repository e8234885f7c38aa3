"""Co-purchase counts per event-time day, and the rolling-window sums cross-sell learns from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from services.campaigns.domain.affinity import AffinityCounts, basket_pairs
from services.campaigns.domain.triggers import Basket


async def count_baskets(conn: Any, baskets: Sequence[Basket]) -> None:
    """Add the batch's baskets to the day counts, in one statement."""
    if not baskets:
        return
    per_day: Counter[date] = Counter()
    categories: Counter[tuple[date, str]] = Counter()
    pairs: Counter[tuple[date, str, str]] = Counter()
    units: Counter[tuple[date, str, str]] = Counter()
    for basket in baskets:
        day = basket.at.date()
        per_day[day] += 1
        for category in basket.categories:
            categories[(day, category)] += 1
        for a, b in basket_pairs(basket.categories):
            pairs[(day, a, b)] += 1
        for line in basket.lines:
            if line.category:
                units[(day, line.sku, line.category)] += 1
    d, c, p, u = sorted(per_day), sorted(categories), sorted(pairs), sorted(units)
    await conn.execute(
        """WITH b AS (
               INSERT INTO basket_days AS t (day, baskets) SELECT * FROM unnest($1::date[], $2::int[])
               ON CONFLICT (day) DO UPDATE SET baskets = t.baskets + EXCLUDED.baskets),
           c AS (
               INSERT INTO category_days AS t (day, category, baskets)
               SELECT * FROM unnest($3::date[], $4::text[], $5::int[])
               ON CONFLICT (day, category) DO UPDATE SET baskets = t.baskets + EXCLUDED.baskets),
           p AS (
               INSERT INTO pair_days AS t (day, a, b, baskets)
               SELECT * FROM unnest($6::date[], $7::text[], $8::text[], $9::int[])
               ON CONFLICT (day, a, b) DO UPDATE SET baskets = t.baskets + EXCLUDED.baskets)
           INSERT INTO sku_days AS t (day, sku, category, units)
           SELECT * FROM unnest($10::date[], $11::text[], $12::text[], $13::int[])
           ON CONFLICT (day, sku) DO UPDATE SET units = t.units + EXCLUDED.units""",
        d,
        [per_day[k] for k in d],
        [k[0] for k in c],
        [k[1] for k in c],
        [categories[k] for k in c],
        [k[0] for k in p],
        [k[1] for k in p],
        [k[2] for k in p],
        [pairs[k] for k in p],
        [k[0] for k in u],
        [k[1] for k in u],
        [k[2] for k in u],
        [units[k] for k in u],
    )


async def window_counts(conn: Any, categories: Collection[str], since: datetime, until: datetime) -> AffinityCounts:
    """Sums over [since, until]: all baskets, every category's baskets, the pairs touching ``categories``."""
    rows = await conn.fetch(
        """SELECT 'total' AS kind, NULL AS a, NULL AS b, COALESCE(sum(baskets), 0)::bigint AS n
             FROM basket_days WHERE day BETWEEN $1 AND $2
           UNION ALL
           SELECT 'category', category, NULL, sum(baskets) FROM category_days
             WHERE day BETWEEN $1 AND $2 GROUP BY category
           UNION ALL
           SELECT 'pair', a, b, sum(baskets) FROM pair_days
             WHERE day BETWEEN $1 AND $2 AND (a = ANY($3::text[]) OR b = ANY($3::text[])) GROUP BY a, b""",
        since.date(),
        until.date(),
        sorted(categories),
    )
    total = 0
    per_category: dict[str, int] = {}
    per_pair: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["kind"] == "total":
            total = r["n"]
        elif r["kind"] == "category":
            per_category[r["a"]] = r["n"]
        else:
            per_pair[(r["a"], r["b"])] = r["n"]
    return AffinityCounts(baskets=total, category_baskets=per_category, pair_baskets=per_pair)


async def best_sellers(
    conn: Any, categories: Collection[str], since: datetime, until: datetime, per_category: int = 5
) -> dict[str, list[str]]:
    """The best-selling SKUs of each category over the window, best first."""
    if not categories:
        return {}
    rows = await conn.fetch(
        """SELECT category, sku FROM (
               SELECT category, sku, row_number() OVER (PARTITION BY category ORDER BY sum(units) DESC, sku) AS rank
               FROM sku_days WHERE day BETWEEN $1 AND $2 AND category = ANY($3::text[])
               GROUP BY category, sku) ranked
           WHERE rank <= $4 ORDER BY category, rank""",
        since.date(),
        until.date(),
        sorted(categories),
        per_category,
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["category"], []).append(r["sku"])
    return out
