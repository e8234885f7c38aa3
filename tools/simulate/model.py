"""The simulator's public vocabulary: what to simulate (``ChainSpec``) and what comes out (``SimRecord``)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.contracts import SOURCE_FORMAT_HEADER

CHAT_FORMATS = ("chat_json", "wecom_archive", "wechat_oa")
PURCHASE_FORMATS = ("pos_receipt", "ecom_order", "purchases_csv")
FORMATS = CHAT_FORMATS + PURCHASE_FORMATS
# Where upstream publishes each format (docs/ingest.md, "Kafka"); an unknown format is sent to the chat topic.
TOPIC_OF = {**dict.fromkeys(CHAT_FORMATS, "raw.chat.v1"), **dict.fromkeys(PURCHASE_FORMATS, "raw.purchase.v1")}
# A month of history, as the spec counts it.
MONTH = timedelta(days=30.44)
# The run id is embedded in every upstream id (cards, receipts, openids, WeCom ids up to 32 characters).
_RUN = re.compile(r"[A-Za-z0-9_-]{1,20}")


def seeded(*parts: object) -> random.Random:
    """A generator of its own for one part of the history (a person, a community), so parts never shift each other."""
    return random.Random(":".join(str(part) for part in parts))  # noqa: S311 - reproducible simulation, not security


def today_midnight() -> datetime:
    """Today's UTC midnight: the default end of history, and the only place the simulator reads the clock."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ChainSpec:
    """One simulated chain. The same spec always gives byte-identical records."""

    members: int = 20_000
    months: int = 12
    seed: int = 7
    # Exclusive end of history, an aware UTC time; history covers [end - months * 30.44 days, end).
    end: datetime = field(default_factory=today_midnight)
    stores: int = 20
    communities: int = 50
    # Prefix inside every upstream id, so concurrent runs on one stack never collide.
    run: str = "demo"
    # The first N months go out as backfill files (file replay); the rest live (Kafka, HTTP).
    backfill_months: int = 1
    # Malformed records planted, as a share of the good ones: 0.2 % is real life, 25 % a hostile upstream.
    bad_share: float = 0.002

    def __post_init__(self) -> None:
        if self.members < 1 or self.months < 1 or self.stores < 1 or self.communities < 0:
            raise ValueError("members, months and stores must be at least 1, communities at least 0")
        if not 0 <= self.backfill_months <= self.months:
            raise ValueError("backfill_months must be between 0 and months")
        if self.end.tzinfo is None:
            raise ValueError("end must be an aware datetime (UTC)")
        if not 0 <= self.bad_share <= 1:
            raise ValueError("bad_share must be between 0 and 1")
        if not _RUN.fullmatch(self.run):
            raise ValueError("run must be 1 to 20 letters, digits, '_' or '-'")

    @property
    def start(self) -> datetime:
        return (self.end.astimezone(UTC) - self.months * MONTH).replace(microsecond=0)

    @property
    def backfill_until(self) -> datetime:
        return (self.start + self.backfill_months * MONTH).replace(microsecond=0)

    def as_json(self) -> dict[str, object]:
        return {
            "members": self.members,
            "months": self.months,
            "seed": self.seed,
            "end": self.end.astimezone(UTC).isoformat(),
            "stores": self.stores,
            "communities": self.communities,
            "run": self.run,
            "backfill_months": self.backfill_months,
            "bad_share": self.bad_share,
        }


class Route(StrEnum):
    FILE = "file"  # a backfill file under backfill/, replayed with `python -m services.ingest replay`
    KAFKA = "kafka"  # published to the raw topic with the mp-source-format header
    HTTP = "http"  # POSTed to ingest's signed webhook, /v1/events/{source_format}


@dataclass(frozen=True)
class Meaning:
    """What ingest must publish for an accepted record, in the canonical contracts' own words.

    The oracle folds scoring's rules over these (tools/oracle/states.py) without parsing a body.
    """

    topic: str  # "chat" | "community" | "purchase"
    kind: str  # a ChatKind, CommunityAction or PurchaseKind value
    occurred_at: datetime  # the time ingest gives the event (a web refund: the order's paid_at)
    community_id: str = ""
    text: str = ""
    total_minor: int = 0  # a purchase's total: a sale's positive, a refund's what it gives back
    # A purchase's store (None for the web shop) and lines as (sku, category, amount in minor units),
    # the category as ingest's catalog gives it: None for a SKU the catalog does not know.
    store_id: str | None = None
    lines: tuple[tuple[str, str | None, int], ...] = ()


@dataclass(frozen=True)
class SimRecord:
    """One upstream record, exactly as the upstream system would send it."""

    # Event time (UTC). For a planted duplicate, the moment it is re-sent; for an order's later version,
    # the moment the web shop sends it (ingest dates its refund at the order's paid_at).
    at: datetime
    source_format: str
    body: bytes
    # The person's partition key: the same for all of one person's records.
    key: bytes
    route: Route
    # "accepted" | "duplicate" | "ignored" | "dlq:<rejection code>"
    expect: str
    # The upstream event id (run-unique): what ingest deduplicates on.
    ref: str
    # For a purchase record: ("sale" | "refund", amount in minor units) that ingest must publish.
    amount: tuple[str, int] | None = None
    # For an accepted record: the event ingest must make of it.
    meaning: Meaning | None = None

    @property
    def topic(self) -> str:
        return TOPIC_OF.get(self.source_format, "raw.chat.v1")

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(SOURCE_FORMAT_HEADER, self.source_format.encode())]
