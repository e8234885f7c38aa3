"""The app communities: card members join, chat, reply, react, start topics, and some leave.

Each member chats at their habit's rate while present (from joining until they leave or churn,
and again after coming back). Replies and reactions point at a recent message of someone else.
Within days of their last purchase, churners who complain post one message matching scoring's
complaint lexicon and go quiet; those who leave send a ``leave``. Every five weeks or so, three to five members of one
community ask about the same category within a few hours: the community-interest trigger.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from tools.simulate.calendar import DAY, HOUR, Intensities, Intensity
from tools.simulate.chain import Community
from tools.simulate.events import AppChat, Burst
from tools.simulate.model import seeded
from tools.simulate.people import Person, weighted
from tools.simulate.texts import CHATTER, COMPLAINTS, INTEREST, INTEREST_CATEGORIES, REPLIES, TOPICS, edited

# Message kinds by habit (reactions have a rate of their own).
_KINDS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "active": (("text", "reply", "topic", "image"), (0.5, 0.33, 0.07, 0.1)),
    "participant": (("text", "reply", "topic", "image"), (0.55, 0.35, 0.03, 0.07)),
    "lurker": (("text", "reply", "image"), (0.6, 0.35, 0.05)),
    "silent": (("text",), (1.0,)),
}
REACTIONS = ("👍", "❤️", "😂", "👏", "🙏", "🎉")
BURST_EVERY_DAYS = 35.0  # in a community of 100 members or more
EDIT_SHARE, RECALL_SHARE = 0.015, 0.005
_MESSAGES = ("text", "image", "reply", "topic")


@dataclass
class _Planned:
    hour: float
    person: Person
    kind: str
    planted: str = ""


def _member_plan(
    person: Person, chat: Intensity, seed: int, hours: float
) -> tuple[list[_Planned], list[tuple[float, float]]]:
    """The member's chat actions in time, and the spans they are present in the community."""
    rng = seeded(seed, "chat", person.index)
    join = person.join if person.join is not None else hours
    plan = [_Planned(join, person, "join")]
    churn = person.churn if person.churn is not None and person.churn < hours else None
    stop = churn if churn is not None else hours
    if churn is not None and person.churn_style in ("left", "complained"):
        # Within days of their last purchase they leave, or complain and then go quiet.
        stop = churn + min(rng.uniform(1, 7) * DAY, (hours - churn) / 2)
        if person.churn_style == "left":
            plan.append(_Planned(stop, person, "leave"))
        else:
            plan.append(_Planned(stop, person, "text", "complaint"))
    spans = [(join, stop)]
    if person.back is not None and person.back < hours:
        if person.churn_style != "left":
            spans.append((person.back, hours))
        elif person.rejoin is not None and person.rejoin < hours:
            plan.append(_Planned(person.rejoin, person, "join"))
            spans.append((person.rejoin, hours))
    kinds, weights = _KINDS[person.chat_habit]
    for a, b in spans:
        for hour in chat.poisson(rng, person.messages_per_week / 7, a, b):
            plan.append(_Planned(hour, person, weighted(rng, kinds, weights)))
        for hour in chat.poisson(rng, person.reactions_per_week / 7, a, b):
            plan.append(_Planned(hour, person, "reaction"))
    return plan, spans


def _bursts(
    community: Community,
    members: Sequence[Person],
    spans: dict[int, list[tuple[float, float]]],
    chat: Intensity,
    rng: random.Random,
    hours: float,
) -> tuple[list[_Planned], list[Burst]]:
    """Several members asking about one category within hours of each other."""
    plan: list[_Planned] = []
    planted: list[Burst] = []
    expected = (hours / DAY - 15) / BURST_EVERY_DAYS * min(len(members) / 100, 1)  # fewer in small communities
    count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
    categories = [c for c in INTEREST_CATEGORIES if not (community.store.calendar == "ir" and c == "wine")]
    for _ in range(max(count, 0)):
        hour = chat.one(rng, 14 * DAY, hours - DAY)
        if hour is None:
            continue
        present = [p for p in members if any(a <= hour < b for a, b in spans[p.index])]
        engaged = [p for p in present if p.chat_habit != "silent"]
        pool = engaged if len(engaged) >= 3 else present
        if len(pool) < 3:
            continue
        chosen = rng.sample(pool, rng.randint(3, min(5, len(pool))))
        category = rng.choice(categories)
        times = sorted(hour + rng.uniform(0, 10) for _ in chosen)
        times = [t for t in times if t < hours]
        plan += [_Planned(t, p, "text", f"interest:{category}") for t, p in zip(times, chosen, strict=False)]
        if times:
            members_asking = tuple(p.card_no or p.key for p in chosen[: len(times)])
            planted.append(Burst(community.community_id, category, int(times[0] * HOUR), members_asking))
    return plan, planted


def _text(person: Person, kind: str, planted: str, rng: random.Random) -> str:
    locale = person.locale
    if planted == "complaint":
        return rng.choice(COMPLAINTS[locale])
    if planted.startswith("interest:"):
        category = planted.split(":", 1)[1]
        return rng.choice(INTEREST[locale].get(category) or INTEREST["en"][category])
    if kind == "reply":
        return rng.choice(REPLIES[locale])
    if kind == "topic":
        return rng.choice(TOPICS[locale])
    if kind == "reaction":
        return rng.choice(REACTIONS)
    return rng.choice(CHATTER[locale]) if kind == "text" else ""


def community_chat(
    n: int, community: Community, members: Sequence[Person], intensities: Intensities, seed: int
) -> tuple[list[AppChat], list[Burst]]:
    """Every chat_json event of one community, in time order, and the interest bursts planted in it."""
    hours = intensities.window.hours
    chat = intensities.get("chat", community.store.timezone, community.store.calendar)
    rng = seeded(seed, "community", n)
    plan: list[_Planned] = []
    spans: dict[int, list[tuple[float, float]]] = {}
    for person in members:
        own, spans[person.index] = _member_plan(person, chat, seed, hours)
        plan += own
    bursts, planted = _bursts(community, members, spans, chat, rng, hours)
    plan += bursts
    plan.sort(key=lambda p: (p.hour, p.person.index))
    drafts: list[AppChat] = []
    followups: list[AppChat] = []
    recent: list[AppChat] = []
    end = int(hours * HOUR)
    for item in plan:
        kind, target = item.kind, None
        if kind in ("reply", "reaction"):
            others = [m for m in recent[-12 if kind == "reaction" else -8 :] if m.person is not item.person]
            if not others:
                if kind == "reaction":
                    continue
                kind = "text"
            else:
                target = rng.choice(others)
        draft = AppChat(
            t=int(item.hour * HOUR),
            person=item.person,
            community=community,
            kind=kind,
            text=_text(item.person, kind, item.planted, rng),
            target=target,
            planted=item.planted,
        )
        drafts.append(draft)
        if kind in _MESSAGES:
            recent = [*recent[-29:], draft]
        roll = rng.random()
        if kind == "text" and not item.planted and roll < EDIT_SHARE + RECALL_SHARE:
            edit = roll < EDIT_SHARE
            later = draft.t + (rng.randint(60, 600) if edit else rng.randint(20, 120))
            if later < end:
                followups.append(
                    AppChat(
                        t=later,
                        person=item.person,
                        community=community,
                        kind="edit" if edit else "recall",
                        text=edited(draft.text) if edit else "",
                        target=draft,
                    )
                )
    return drafts + followups, planted
