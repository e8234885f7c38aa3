"""What card members buy, where and when: till receipts, returns and web-shop orders.

A member's visits are a Poisson process at their own rate, shaped by store hours, weekdays and the
seasons (regular stock-up shoppers come on a Gamma-gap rhythm instead); after each repeat purchase
they may drop out for good (BG/NBD's dropout), which is where their planted churn comes from. Baskets hold one to four
lines: the anchor category, often its complement (coffee then milk, pasta then sauce, diapers then
wipes), and a few more of the member's categories, at the price tier the member's spend level
favours. The first store receipt in the history carries the member's phone, so a later web order
(customer id + phone) links to the card; web orders therefore start a day after it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from tools.simulate.calendar import DAY, HOUR, Intensities, Intensity
from tools.simulate.chain import COMPLEMENTS, PRICE_TIERS, Product
from tools.simulate.events import Draft, Line, OrderVersion, Receipt, WebOrder
from tools.simulate.model import seeded
from tools.simulate.people import Person, settle_churn, weighted

POPUP_STORE = "store-popup-01"  # a pop-up stall missing from the registry: accepted, flagged unknown_store
POPUP_TIMEZONE = "Asia/Shanghai"  # ingest's default zone for unregistered stores
POPUP_SHARE = 0.001
UNKNOWN_SKU_SHARE = 0.0015  # lines of a product not yet in the catalog: accepted, flagged unknown_skus
UNKNOWN_SKU_PREFIX = "SKU-NEW-"
RETURN_SHARE = 0.02  # of store sales: one item brought back within ten days
PHONE_ON_RECEIPT = 0.3  # later receipts where the cashier also typed the phone
WEB_SHARE = 0.4  # of an online member's purchases
PARTIAL_REFUND_SHARE, FULL_REFUND_SHARE = 0.035, 0.01
LINK_DELAY = 1 * DAY  # web orders only after the phone is linked to the card by a store receipt


class Catalog:
    def __init__(self, products: Sequence[Product]) -> None:
        self.by_tier: dict[tuple[str, str], list[Product]] = defaultdict(list)
        for product in products:
            self.by_tier[(product.category, product.price_tier)].append(product)
        self.categories = tuple(dict.fromkeys(p.category for p in products))

    def line(self, person: Person, category: str, rng: random.Random, *, discounts: bool = True) -> Line:
        tier = weighted(rng, PRICE_TIERS, person.tier_weights)
        product = rng.choice(self.by_tier[(category, tier)])
        qty = weighted(rng, (1, 2, 3), (0.78, 0.17, 0.05))
        sku = product.sku
        if rng.random() < UNKNOWN_SKU_SHARE:
            sku = f"{UNKNOWN_SKU_PREFIX}{category.upper().replace('_', '')}-{rng.randrange(1, 40):02d}"
        discount = 0
        if discounts and rng.random() < 0.12:
            discount = round(qty * product.price_minor * rng.uniform(0.05, 0.2) / 10) * 10
        return Line(sku, category, qty, product.price_minor, discount)

    def basket(self, person: Person, rng: random.Random, *, web: bool = False) -> tuple[Line, ...]:
        categories = person.categories
        staple = person.staple
        anchor = staple if staple and person.rhythm and rng.random() < 0.85 else rng.choice(categories)
        chosen = [anchor]
        complements = COMPLEMENTS.get(anchor, ())
        if complements and rng.random() < 0.55:
            chosen.append(rng.choice(complements))
        for _ in range(weighted(rng, (0, 1, 2), (0.5, 0.32 + 0.05 * person.spend, 0.18 + 0.05 * person.spend))):
            chosen.append(rng.choice(categories) if rng.random() < 0.7 else rng.choice(self.categories))
        return tuple(self.line(person, c, rng, discounts=not web) for c in list(dict.fromkeys(chosen))[:4])


def _arrivals(person: Person, in_store: Intensity, online: Intensity, rng: random.Random, start: float,
              end: float) -> list[tuple[float, str]]:  # fmt: skip
    """Store visits and web orders in [start, end), at the member's own rate (or rhythm)."""
    per_day = person.purchases_per_week / 7
    web_share = WEB_SHARE if person.online else 0.0
    if person.rhythm:
        visits = in_store.renewal(rng, per_day, start, end, shape=5.0)
    else:
        visits = in_store.poisson(rng, per_day * (1 - web_share), start, end)
    orders = online.poisson(rng, per_day * web_share, start, end)
    return [(hour, "store") for hour in visits] + [(hour, "web") for hour in orders]


def _timeline(person: Person, in_store: Intensity, online: Intensity, rng: random.Random,
              hours: float) -> list[tuple[float, str]]:  # fmt: skip
    """The member's purchases in time: until they drop out after a repeat purchase, and again after a return."""
    purchases: list[tuple[float, str]] = []
    start = person.arrive
    if not person.existing:  # the sign-up: the card is issued at the till with a first purchase
        signup = in_store.one(rng, person.arrive, min(person.arrive + 3 * DAY, hours))
        if signup is not None:
            purchases.append((signup, "store"))
            start = signup + HOUR
    purchases += _arrivals(person, in_store, online, rng, start, hours)
    if not any(kind == "store" for _, kind in purchases):  # everyone in the data shopped in a store once
        once = in_store.one(rng, start, hours)
        purchases += [(once, "store")] if once is not None else []
    if not purchases:
        return []
    first_visit = min(hour for hour, kind in purchases if kind == "store")
    # A web order names the customer id and phone: only after the phone was linked to the card at a till.
    purchases = sorted(p for p in purchases if p[1] == "store" or p[0] >= first_visit + LINK_DELAY)
    for n, (hour, _) in enumerate(purchases):
        if n >= 1 and rng.random() < person.dropout:
            purchases = purchases[: n + 1]
            settle_churn(person, hour + 0.01, rng, hours)  # gone right after this purchase
            break
    if person.back is not None and person.back < hours:
        purchases += sorted(_arrivals(person, in_store, online, rng, person.back, hours))
    return purchases


def member_purchases(person: Person, catalog: Catalog, intensities: Intensities, seed: int) -> list[Draft]:
    """The member's receipts, returns and web orders; plans their churn (``settle_churn``) on the way."""
    rng = seeded(seed, "buy", person.index)
    hours = intensities.window.hours
    store = person.store
    in_store = intensities.get("store", store.timezone, store.calendar)
    online = intensities.get("web", store.timezone, store.calendar)
    drafts: list[Draft] = []
    visits = 0
    for hour, kind in _timeline(person, in_store, online, rng, hours):
        if kind == "web":
            drafts += _order(person, hour, catalog.basket(person, rng, web=True), online, rng, hours)
            continue
        sale = _receipt(
            person, hour, catalog.basket(person, rng), rng, with_phone=visits == 0 or rng.random() < PHONE_ON_RECEIPT
        )
        visits += 1
        drafts.append(sale)
        if rng.random() < RETURN_SHARE:
            drafts += _return(person, sale, in_store.one(rng, hour + DAY, min(hour + 10 * DAY, hours)))
    churn = person.churn
    sales = [d for d in drafts if isinstance(d, Receipt) and d.kind == "sale"]
    if churn is not None and person.churn_style == "complained" and sales and rng.random() < 0.5:
        # Brings something from the last shop back, complains in the community, and never comes back.
        last = max(sales, key=lambda d: d.t)
        drafts += _return(person, last, in_store.one(rng, churn + DAY / 2, min(churn + 3 * DAY, hours)))
    return drafts


def _receipt(person: Person, hour: float, lines: tuple[Line, ...], rng: random.Random, *, with_phone: bool) -> Receipt:
    store = person.store
    if store.calendar == "cn" and rng.random() < POPUP_SHARE:
        return Receipt(
            t=int(hour * HOUR),
            person=person,
            store_id=POPUP_STORE,
            timezone=POPUP_TIMEZONE,
            till="pos",
            lines=lines,
            with_phone=with_phone,
        )
    return Receipt(
        t=int(hour * HOUR),
        person=person,
        store_id=store.store_id,
        timezone=store.timezone,
        till=store.till,
        lines=lines,
        with_phone=with_phone,
    )


def _return(person: Person, sale: Receipt, hour: float | None) -> list[Draft]:
    if hour is None or hour * HOUR <= sale.t:
        return []
    line = sale.lines[0]
    unit = line.amount_minor // line.qty  # what was paid per unit, discount included
    returned = Line(line.sku, line.category, 1, unit)
    return [
        Receipt(
            t=int(hour * HOUR),
            person=person,
            store_id=sale.store_id,
            timezone=sale.timezone,
            till=sale.till,
            lines=(returned,),
            kind="return",
            original=sale,
        )
    ]


def _order(
    person: Person, hour: float, lines: tuple[Line, ...], online: Intensity, rng: random.Random, hours: float
) -> list[Draft]:
    order = WebOrder(int(hour * HOUR), lines)
    drafts: list[Draft] = [OrderVersion(t=order.paid_t, person=person, order=order)]
    roll = rng.random()
    if roll >= PARTIAL_REFUND_SHARE + FULL_REFUND_SHARE:
        return drafts
    later = online.one(rng, hour + 2 * DAY, min(hour + 12 * DAY, hours))
    if later is None:
        return drafts
    total = sum(line.amount_minor for line in lines)
    refund: tuple[tuple[str, int], ...]
    if roll < PARTIAL_REFUND_SHARE and (len(lines) > 1 or lines[0].qty > 1):
        first = lines[0]
        refund, status, amount = ((first.sku, 1),), "partially_refunded", first.unit_price_minor
    else:
        refund, status, amount = tuple((line.sku, line.qty) for line in lines), "refunded", total
    drafts.append(
        OrderVersion(
            t=int(later * HOUR),
            person=person,
            order=order,
            version=2,
            status=status,
            refund=refund,
            refund_minor=amount,
        )
    )
    return drafts
