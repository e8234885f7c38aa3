"""A seeded history of canonical member events: what ingest would publish for a chain over months.

Members differ the way real ones do: each has a purchase rhythm of their own, a chat habit
(active, participant, lurker or silent), and some churn (they stop buying, go quiet, leave or
unfollow, sometimes complain) and a few come back. Used by scoring's replay tests and bench.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts import (
    ChatKind,
    CommunityAction,
    KafkaRecord,
    MemberChatV1,
    MemberCommunityV1,
    MemberEvent,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
    derived_event_id,
    wrap,
)
from shared.contracts.topics import MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_PURCHASE

CHAT_HABITS = (("active", 0.15, 2.5), ("participant", 0.35, 10.0), ("lurker", 0.30, 45.0), ("silent", 0.20, 0.0))
TEXTS = ("早上好！", "今天的牛奶有货吗？", "Thanks, see you at the store", "Рахмет!", "سلام، ممنون", "👍")
COMPLAINTS = ("鸡蛋是坏的，我要投诉", "Terrible service today, never again")
_TOPIC = {
    MemberChatV1: MEMBER_CHAT.name,
    MemberCommunityV1: MEMBER_COMMUNITY.name,
    MemberPurchaseV1: MEMBER_PURCHASE.name,
}


@dataclass(frozen=True)
class HistorySpec:
    run: str
    members: int = 200
    days: int = 365
    seed: int = 7


def _habit(rng: random.Random) -> tuple[str, float]:
    roll, total = rng.random(), 0.0
    for name, share, gap in CHAT_HABITS:
        total += share
        if roll < total:
            return name, gap
    return CHAT_HABITS[-1][0], CHAT_HABITS[-1][2]


def _member_events(spec: HistorySpec, n: int, start: datetime, rng: random.Random) -> Iterator[MemberEvent]:
    member = f"m_{spec.run}_{n:05d}"
    community = f"estate-{n % 7}"
    joined = rng.uniform(0, spec.days * 0.5)
    churn_at = rng.uniform(joined + 30, spec.days * 1.5) if rng.random() < 0.4 else spec.days * 2
    back_at = churn_at + rng.uniform(150, 250) if rng.random() < 0.25 else spec.days * 2
    serial = 0

    def at(day: float) -> datetime:
        return start + timedelta(days=day)

    def next_id(kind: str) -> str:
        nonlocal serial
        serial += 1
        return f"{spec.run}-{n}-{kind}-{serial}"

    def alive(day: float) -> bool:
        return day < churn_at or day >= back_at

    yield MemberCommunityV1(
        member_id=member,
        occurred_at=at(joined),
        community_id=community,
        action=CommunityAction.JOIN,
        source="wecom_archive",
        source_event_id=next_id("join"),
    )
    cadence = rng.gammavariate(2.0, 12.0) + 3
    # Each member has their own spend level (Gamma-Gamma's premise): without it every member's mean
    # basket comes from one distribution and the spend model has nothing to fit. It has its own
    # generator, so the rest of the history is the same draw for draw as before it existed.
    level = random.Random(f"{spec.seed}:{n}:spend").gammavariate(3.0, 1 / 3)  # noqa: S311 - test data
    day = joined + rng.expovariate(1 / cadence)
    while day < spec.days:
        if alive(day):
            total = max(100, round(rng.randrange(1_500, 40_000) * level))
            line = PurchaseLine(sku="sku-milk-1l", category="dairy", qty=1, unit_price_minor=total, amount_minor=total)
            purchase_id = next_id("sale")
            yield MemberPurchaseV1(
                member_id=member,
                occurred_at=at(day),
                purchase_id=purchase_id,
                kind=PurchaseKind.SALE,
                channel=PurchaseChannel.POS,
                store_id=f"store-{n % 20:03d}",
                currency="CNY",
                lines=(line,),
                total_minor=total,
                source="pos_receipt",
                source_event_id=purchase_id,
            )
            if rng.random() < 0.03:
                yield MemberPurchaseV1(
                    member_id=member,
                    occurred_at=at(day + 2),
                    purchase_id=next_id("refund"),
                    kind=PurchaseKind.REFUND,
                    channel=PurchaseChannel.POS,
                    store_id=f"store-{n % 20:03d}",
                    currency="CNY",
                    lines=(line,),
                    total_minor=total,
                    original_purchase_id=purchase_id,
                    source="pos_receipt",
                    source_event_id=next_id("refund-receipt"),
                )
        day += rng.expovariate(1 / cadence)
    habit, gap = _habit(rng)
    day = joined
    while gap and day < spec.days:
        day += rng.expovariate(1 / gap)
        if day >= spec.days or not alive(day):
            continue
        kind = ChatKind.REACTION if habit == "lurker" else rng.choice((ChatKind.MESSAGE, ChatKind.REPLY))
        text = rng.choice(COMPLAINTS) if churn_at - 20 < day < churn_at and rng.random() < 0.3 else rng.choice(TEXTS)
        yield MemberChatV1(
            member_id=member,
            occurred_at=at(day),
            community_id=community,
            kind=kind,
            text="" if kind is ChatKind.REACTION else text,
            source="chat_json",
            source_event_id=next_id("chat"),
        )
    if churn_at < spec.days and rng.random() < 0.5:
        yield MemberCommunityV1(
            member_id=member,
            occurred_at=at(churn_at + rng.uniform(0, 10)) if churn_at + 10 < spec.days else at(churn_at),
            community_id=community,
            action=rng.choice((CommunityAction.LEAVE, CommunityAction.UNFOLLOW)),
            source="wechat_oa",
            source_event_id=next_id("leave"),
        )


def member_history(spec: HistorySpec, start: datetime) -> list[MemberEvent]:
    """Every event of every member, in event-time order."""
    rng = random.Random(spec.seed)  # noqa: S311 - reproducible test data, not security
    events = [event for n in range(spec.members) for event in _member_events(spec, n, start, rng)]
    return sorted((e for e in events if e.occurred_at < start + timedelta(days=spec.days)), key=lambda e: e.occurred_at)


def as_record(event: MemberEvent) -> KafkaRecord:
    """The CloudEvent record ingest would publish for ``event``, with a stable event id."""
    source_id = getattr(event, "source_event_id", "")
    return wrap(
        event,
        topic=_TOPIC[type(event)],
        source="memberpulse/ingest",
        event_id=derived_event_id("history", event.member_id, source_id),
    )
