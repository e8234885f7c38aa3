"""The chat-only people: official-account followers (WeChat pushes) and WeCom group contacts.

Followers subscribe, write to the account now and then, tap menu items (CLICK events, which
ingest counts as ignored) and some unsubscribe: their churn. WeCom contacts chat in their store's
customer group, react with stickers and sometimes recall a message; store staff post notices in
the same groups, which ingest ignores as staff messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.simulate.calendar import DAY, HOUR, Intensities
from tools.simulate.events import Draft, OaPush, WecomMessage
from tools.simulate.model import seeded
from tools.simulate.people import Person
from tools.simulate.texts import CHATTER, OA_TEXTS, REPLIES, STAFF_IDS, STAFF_NOTICES

RECALL_SHARE = 0.015
STAFF_NOTICES_PER_WEEK = 1.5  # in a group of 30 contacts or more; fewer in smaller groups


def _spans(person: Person, start: float, hours: float) -> list[tuple[float, float]]:
    spans = [(start, min(person.churn if person.churn is not None else hours, hours))]
    if person.back is not None and person.back < hours:
        spans.append((person.back, hours))
    return [(a, b) for a, b in spans if b > a]


def follower_pushes(person: Person, intensities: Intensities, seed: int) -> list[Draft]:
    rng = seeded(seed, "oa", person.index)
    hours = intensities.window.hours
    chat = intensities.get("chat", person.store.timezone, person.store.calendar)
    follow = chat.one(rng, person.arrive, min(person.arrive + DAY, hours))
    if follow is None:
        return []
    drafts: list[Draft] = [OaPush(t=int(follow * HOUR), person=person, kind="subscribe")]
    for a, b in _spans(person, follow + 0.05, hours):
        if a > follow + 0.05:  # came back: follows again
            drafts.append(OaPush(t=int(a * HOUR), person=person, kind="subscribe"))
        for hour in chat.poisson(rng, person.messages_per_week / 7, a, b):
            drafts.append(
                OaPush(t=int(hour * HOUR), person=person, kind="text", text=rng.choice(OA_TEXTS[person.locale]))
            )
        for hour in chat.poisson(rng, person.reactions_per_week / 7, a, b):
            drafts.append(OaPush(t=int(hour * HOUR), person=person, kind="CLICK"))
        if b < hours:
            drafts.append(OaPush(t=int(b * HOUR), person=person, kind="unsubscribe"))
    return drafts


def wecom_messages(person: Person, room: str, intensities: Intensities, seed: int) -> list[Draft]:
    rng = seeded(seed, "wecom", person.index)
    hours = intensities.window.hours
    chat = intensities.get("chat", person.store.timezone, person.store.calendar)
    drafts: list[Draft] = []
    for a, b in _spans(person, person.arrive, hours):
        said = chat.poisson(rng, person.messages_per_week / 7, a, b)
        reacted = chat.poisson(rng, person.reactions_per_week / 7, a, b)
        for hour in sorted(said):
            kind = "image" if rng.random() < 0.15 else "text"
            pool = REPLIES["zh-CN"] if rng.random() < 0.3 else CHATTER["zh-CN"]
            text = rng.choice(pool) if kind == "text" else ""
            message = WecomMessage(
                t=int(hour * HOUR), person=person, room=room, sender=person.key, msgtype=kind, text=text
            )
            drafts.append(message)
            later = message.t + rng.randint(20, 110)
            if kind == "text" and rng.random() < RECALL_SHARE and later < hours * HOUR:
                drafts.append(
                    WecomMessage(t=later, person=person, room=room, sender=person.key, msgtype="revoke", target=message)
                )
        drafts += [
            WecomMessage(t=int(h * HOUR), person=person, room=room, sender=person.key, msgtype="emotion")
            for h in reacted
        ]
    return drafts


def staff_notices(room: str, contacts: Sequence[Person], intensities: Intensities, seed: int) -> list[Draft]:
    """The store staff's posts in a WeCom group (keyed by the group when sent)."""
    if not contacts:
        return []
    store = contacts[0].store
    rng = seeded(seed, "staff", store.store_id)
    store_hours = intensities.get("store", store.timezone, store.calendar)
    start = min(p.arrive for p in contacts)
    hours = intensities.window.hours
    return [
        WecomMessage(
            t=int(h * HOUR),
            person=contacts[0],
            room=room,
            sender=rng.choice(STAFF_IDS),
            msgtype="text",
            text=rng.choice(STAFF_NOTICES),
            staff=True,
        )
        for h in store_hours.poisson(rng, STAFF_NOTICES_PER_WEEK * min(len(contacts) / 30, 1) / 7, start, hours)
    ]
