"""Who is in the chain: card members, WeChat official-account followers and WeCom group contacts.

Card members follow BG/NBD's own story, so a fit on their purchases is meaningful: each has a
purchase rate (Gamma-distributed across members), a probability of dropping out after each repeat
purchase (Beta-distributed), and a spend level (Gamma, as Gamma-Gamma assumes); personas decide
what they buy. The dropout is the planted churn: about a quarter of card members churn within a
year, and about one churner in six comes back two to five months later. About half belong to a
community of their store, with a chat habit; scoring's engagement rules (contribution ≥ 6 at a
14-day half-life for "active") then put only a small minority of a community in the active tier.

Followers and WeCom contacts cannot be linked to a card by any upstream format, so they are a
population of their own: chat only, no purchases.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tools.simulate import identities
from tools.simulate.calendar import DAY
from tools.simulate.chain import PERSONAS, Community, Persona, Store
from tools.simulate.model import ChainSpec, seeded

T = TypeVar("T")

CARD, FOLLOWER, WECOM = "card_member", "wechat_follower", "wecom_contact"
# Chat habits of community members: share, and (messages, reactions) a week for the typical member.
# Active needs about two weighted messages a week kept up; most of a community says far less.
HABITS: dict[str, tuple[float, float, float]] = {
    "active": (0.09, 2.0, 0.3),
    "participant": (0.22, 0.35, 0.25),
    "lurker": (0.29, 0.015, 0.15),
    "silent": (0.40, 0.0, 0.0),
}
WECOM_HABITS: dict[str, tuple[float, float, float]] = {
    "active": (0.12, 2.2, 0.4),
    "participant": (0.45, 0.35, 0.25),
    "lurker": (0.43, 0.015, 0.15),
}
FOLLOWER_HABITS: dict[str, tuple[float, float, float]] = {  # (share, texts, menu clicks) a week
    "participant": (0.15, 0.25, 0.05),
    "lurker": (0.45, 0.03, 0.03),
    "silent": (0.40, 0.0, 0.01),
}
COMMUNITY_SHARE = 0.5
NEW_MEMBER_SHARE = 0.35  # card members who sign up during the history; the rest already hold a card
ONLINE_SHARE = 0.25
RHYTHM_SHARE = 0.18  # regular stock-up shoppers: replenishment has a rhythm to find
# Dropout after each repeat purchase, p ~ Beta(a, b): about 27 % of card members churn within a year.
DROPOUT_BETA = (1.5, 1.5)
# Members who already held a card survived their past purchases: their dropout is Beta(a, b + purchases
# survived), the Beta posterior. So most churn comes in a member's first months, and frequent shoppers who
# have been around for years are the loyal ones; sign-ups then roughly replace the churners.
CARD_HELD_YEARS = (0.25, 4.0)
# Followers and WeCom contacts drop out at an exponential time (per year, mixed over people).
FOLLOWER_CHURN_PER_YEAR = 0.25
CONTACT_CHURN_PER_YEAR = 0.42
RETURN_SHARE = 0.18  # of churners, who come back two to five months later
RETURN_AFTER_DAYS = (60.0, 150.0)
FOLLOWERS_PER_MEMBER, WECOM_PER_MEMBER = 0.07, 0.045


@dataclass(eq=False)
class Person:
    index: int  # 1-based within its kind
    kind: str
    key: str  # the Kafka partition key: card number, openid or WeCom external id
    store: Store
    locale: str
    chat_habit: str = "none"
    community: Community | None = None
    # Planned times, in hours from the start of history (may lie beyond its end: never happens then).
    arrive: float = 0.0  # sign-up, or when the follower follows / the contact is added
    existing: bool = True  # held a card before the history starts
    join: float | None = None  # joins its community
    churn: float | None = None
    churn_style: str | None = None
    back: float | None = None  # returns after churning
    rejoin: float | None = None  # joins its community again on return (after leaving)
    messages_per_week: float = 0.0
    reactions_per_week: float = 0.0
    # Card members only.
    card_no: str | None = None
    phone: str | None = None
    purchases_per_week: float = 0.0
    dropout: float = 0.0  # the chance of dropping out after each repeat purchase
    rhythm: bool = False
    spend: float = 1.0
    tier_weights: tuple[float, float, float] = (0.3, 0.55, 0.15)
    personas: tuple[Persona, ...] = ()
    online: bool = False
    customer_id: str | None = None
    contact: dict[str, str] = field(default_factory=dict)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for persona in self.personas for c in persona.categories))

    @property
    def staple(self) -> str | None:
        return next((p.staple for p in self.personas if p.staple), None)

    def alive(self, hour: float) -> bool:
        """Whether the person is a customer at ``hour`` (not churned, or back)."""
        return self.churn is None or hour < self.churn or (self.back is not None and hour >= self.back)


def weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    """One of ``items``, with probability proportional to its weight (one draw; faster than rng.choices)."""
    point, total = rng.random() * sum(weights), 0.0
    for item, weight in zip(items, weights, strict=True):
        total += weight
        if point < total:
            return item
    return items[-1]


def _habit(rng: random.Random, habits: dict[str, tuple[float, float, float]]) -> str:
    names = list(habits)
    return weighted(rng, names, [habits[name][0] for name in names])


def _dropout(rng: random.Random, per_year: float) -> float:
    """Hours until dropout: exponential, with a Gamma(2)-mixed hazard (some members are far more loyal)."""
    hazard = per_year * rng.gammavariate(2.0, 0.5) / (365.25 * DAY)
    return rng.expovariate(hazard) if hazard > 0 else math.inf


def _comes_back(person: Person, churn: float, rng: random.Random) -> None:
    person.churn = churn
    if rng.random() < RETURN_SHARE:
        person.back = churn + rng.uniform(*RETURN_AFTER_DAYS) * DAY


def settle_churn(person: Person, churn: float, rng: random.Random, hours: float) -> None:
    """A card member dropped out at ``churn`` (their last purchase): how they go, and whether they come back.

    Members in a community leave it (a third), complain in it (a third) or just go quiet; one who
    drops out before even joining their community never joins it.
    """
    if churn >= hours:
        return
    _comes_back(person, churn, rng)
    if person.join is not None and churn < person.join + 3 * DAY:
        person.community, person.join, person.chat_habit = None, None, "none"
        person.messages_per_week = person.reactions_per_week = 0.0
    person.churn_style = "quiet"
    if person.community is not None:
        roll = rng.random()
        person.churn_style = "left" if roll < 0.35 else "complained" if roll < 0.65 else "quiet"
        if person.churn_style == "left" and person.back is not None and rng.random() < 0.6:
            person.rejoin = person.back + rng.uniform(0, 14) * DAY


def card_member(
    spec: ChainSpec,
    n: int,
    stores: Sequence[Store],
    communities: Sequence[Community],
    hours: float,
    phones: identities.PhoneBook,
) -> Person:
    rng = seeded(spec.seed, "card", n)
    store = weighted(rng, stores, [s.weight for s in stores])
    locale = weighted(rng, [lc for lc, _ in store.locales], [share for _, share in store.locales])
    card = identities.card_no(spec.run, n)
    person = Person(n, CARD, card, store, locale, card_no=card)
    person.existing = rng.random() >= NEW_MEMBER_SHARE
    person.arrive = 0.0 if person.existing else rng.uniform(0, max(hours - 3 * DAY, 0.0))
    person.phone = phones.issue(store.country, rng)
    person.rhythm = rng.random() < RHYTHM_SHARE
    # Rhythm shoppers come every 3-8 weeks like clockwork; the others at a Gamma-distributed rate.
    rate = 7 / rng.uniform(21, 56) if person.rhythm else rng.gammavariate(0.9, 0.1)
    person.purchases_per_week = round(min(max(rate, 0.01), 2.5), 4)
    person.spend = rng.gammavariate(4.0, 0.25)
    premium = min(max(0.08 + 0.18 * (person.spend - 1), 0.02), 0.6)
    budget = min(max(0.35 - 0.2 * (person.spend - 1), 0.05), 0.7)
    person.tier_weights = (budget, max(1 - budget - premium, 0.1), premium)
    first = weighted(rng, PERSONAS, [p.weight for p in PERSONAS])
    second = weighted(rng, PERSONAS, [p.weight for p in PERSONAS]) if rng.random() < 0.45 else first
    person.personas = tuple(dict.fromkeys((first, second)))
    if person.rhythm and person.staple is None:
        person.rhythm = False  # nothing to replenish
        person.purchases_per_week = round(min(max(rng.gammavariate(0.9, 0.1), 0.01), 2.5), 4)
    person.online = rng.random() < ONLINE_SHARE
    if person.online:
        person.customer_id = identities.customer_id(spec.run, n)
    a, b = DROPOUT_BETA
    survived = person.purchases_per_week * 52 * rng.uniform(*CARD_HELD_YEARS) if person.existing else 0.0
    person.dropout = rng.betavariate(a, b + survived)
    _community(person, rng, communities, hours)
    person.contact = {
        "card_no": card,
        "phone": person.phone,
        "email": identities.email(spec.run, n) if rng.random() < 0.65 else "",
        "wechat_openid": identities.crm_openid(spec.run, n) if rng.random() < 0.55 else "",
        "app_user_id": identities.app_user_id(spec.run, n) if person.community or person.online else "",
        "locale": locale,
        "time_zone": store.timezone,
    }
    return person


def _community(person: Person, rng: random.Random, communities: Sequence[Community], hours: float) -> None:
    """Joins one of its store's communities (the app's communities open when the history starts)."""
    local = [c for c in communities if c.store is person.store]
    if not local or rng.random() >= COMMUNITY_SHARE:
        return
    community = rng.choice(local)
    delay = min(rng.expovariate(1 / 12), 45) if person.existing else rng.expovariate(1 / 4) + 1 / DAY
    join = person.arrive + delay * DAY
    if join >= hours:
        return
    person.community, person.join = community, join
    person.chat_habit = _habit(rng, HABITS)
    _, messages, reactions = HABITS[person.chat_habit]
    variation = rng.gammavariate(6.0, 1 / 6)
    person.messages_per_week, person.reactions_per_week = messages * variation, reactions * variation


def chat_only(spec: ChainSpec, kind: str, n: int, stores: Sequence[Store], hours: float) -> Person:
    """A WeChat follower or a WeCom group contact: arrives during the history (both channels open at its start)."""
    rng = seeded(spec.seed, kind, n)
    if kind == WECOM:  # WeCom groups are run by the Chinese stores
        stores = [s for s in stores if s.calendar == "cn"] or stores
    store = weighted(rng, stores, [s.weight for s in stores])
    locale = weighted(rng, [lc for lc, _ in store.locales], [share for _, share in store.locales])
    if kind == FOLLOWER:
        key, habits, churn = identities.follower_openid(spec.run, n), FOLLOWER_HABITS, FOLLOWER_CHURN_PER_YEAR
    else:
        key, habits, churn = identities.wecom_external_id(spec.run, n), WECOM_HABITS, CONTACT_CHURN_PER_YEAR
    person = Person(n, kind, key, store, locale, existing=False)
    person.arrive = rng.uniform(0, 30 * DAY) if rng.random() < 0.35 else rng.uniform(0, hours)
    person.chat_habit = _habit(rng, habits)
    _, messages, reactions = habits[person.chat_habit]
    variation = rng.gammavariate(6.0, 1 / 6)
    person.messages_per_week, person.reactions_per_week = messages * variation, reactions * variation
    dropout = person.arrive + _dropout(rng, churn)
    if dropout < hours:
        _comes_back(person, dropout, rng)
        person.churn_style = "unfollowed" if kind == FOLLOWER else "quiet"
    return person


def people(spec: ChainSpec, stores: Sequence[Store], communities: Sequence[Community], hours: float) -> list[Person]:
    phones = identities.PhoneBook(spec.run)
    everyone = [card_member(spec, n, stores, communities, hours, phones) for n in range(1, spec.members + 1)]
    followers = max(1, round(spec.members * FOLLOWERS_PER_MEMBER))
    contacts = max(1, round(spec.members * WECOM_PER_MEMBER))
    everyone += [chat_only(spec, FOLLOWER, n, stores, hours) for n in range(1, followers + 1)]
    everyone += [chat_only(spec, WECOM, n, stores, hours) for n in range(1, contacts + 1)]
    return everyone
