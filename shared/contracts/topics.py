"""The topic registry: the single source of truth for names, keys, partitions and retention.

``make up`` and the test fixtures create every topic from this table; services look up
their contracts here, so a topic and its payload model can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from shared.contracts.dlq import DeadLetterV1
from shared.contracts.member import MemberChatV1, MemberCommunityV1, MemberMergedV1, MemberPurchaseV1
from shared.contracts.offer import MemberConsentV1, NotificationReceiptV1, NotificationStatusV1, OfferIssuedV1
from shared.contracts.raw import RawUpstreamRecord
from shared.contracts.state import MemberStateV1

DAY_MS = 24 * 3600 * 1000
DEFAULT_PARTITIONS = 12
# Producers must allow this much too (see shared.kafka.producer).
MAX_DLQ_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    name: str
    contract: type[BaseModel]
    key: str
    description: str
    partitions: int = DEFAULT_PARTITIONS
    retention_ms: int = 30 * DAY_MS
    compacted: bool = False
    extra_config: dict[str, str] = field(default_factory=dict)
    # Its producers write progress marks on every partition (shared.kafka.progress): a consumer
    # reading it in event-time order waits for a partition's first mark before handing anything on.
    progress_marked: bool = False

    @property
    def config(self) -> dict[str, str]:
        """Broker-side topic configuration."""
        config = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }
        if self.compacted:
            # Keep superseded states a while so a lagging consumer still sees transitions.
            config["min.compaction.lag.ms"] = str(DAY_MS)
        return config | self.extra_config


def _dlq(service: str) -> TopicSpec:
    return TopicSpec(
        name=f"{service}.dlq.v1",
        contract=DeadLetterV1,
        key="original key",
        description=f"Records {service} rejected, with raw bytes, error code and origin",
        partitions=3,
        retention_ms=90 * DAY_MS,
        # A letter carries the rejected bytes in base64: an oversized record must still fit.
        extra_config={"max.message.bytes": str(MAX_DLQ_MESSAGE_BYTES)},
    )


RAW_CHAT = TopicSpec(
    "raw.chat.v1", RawUpstreamRecord, "upstream's choice", "Raw chat records", retention_ms=14 * DAY_MS
)
RAW_PURCHASE = TopicSpec(
    "raw.purchase.v1", RawUpstreamRecord, "upstream's choice", "Raw purchase records", retention_ms=14 * DAY_MS
)
MEMBER_CHAT = TopicSpec(
    "member.chat.v1", MemberChatV1, "member_id", "Normalised community chat events", progress_marked=True
)
MEMBER_COMMUNITY = TopicSpec(
    "member.community.v1",
    MemberCommunityV1,
    "member_id",
    "Joins, leaves, follows and unfollows",
    progress_marked=True,
)
MEMBER_PURCHASE = TopicSpec(
    "member.purchase.v1",
    MemberPurchaseV1,
    "member_id",
    "Sales and refunds",
    retention_ms=400 * DAY_MS,
    progress_marked=True,
)
MEMBER_MERGED = TopicSpec(
    "member.merged.v1", MemberMergedV1, "member_id", "Identity merges", retention_ms=400 * DAY_MS, progress_marked=True
)
MEMBER_STATE = TopicSpec(
    "member.state.v1",
    MemberStateV1,
    "member_id",
    "Latest member state",
    retention_ms=-1,
    compacted=True,
    progress_marked=True,
)
OFFER_ISSUED = TopicSpec("offer.issued.v1", OfferIssuedV1, "member_id", "Offers to deliver")
NOTIFICATION_STATUS = TopicSpec(
    "notification.status.v1", NotificationStatusV1, "member_id", "Delivery outcomes per offer and channel"
)
NOTIFICATION_RECEIPT = TopicSpec(
    "notification.receipt.v1",
    NotificationReceiptV1,
    "member_id",
    "Provider delivery receipts that arrive through ingest's callbacks (WeChat template-send results)",
)
MEMBER_CONSENT = TopicSpec(
    "member.consent.v1", MemberConsentV1, "member_id", "Consent changes per channel", retention_ms=-1
)
INGEST_DLQ = _dlq("ingest")
SCORING_DLQ = _dlq("scoring")
CAMPAIGNS_DLQ = _dlq("campaigns")
NOTIFIER_DLQ = _dlq("notifier")

ALL_TOPICS: tuple[TopicSpec, ...] = (
    RAW_CHAT,
    RAW_PURCHASE,
    MEMBER_CHAT,
    MEMBER_COMMUNITY,
    MEMBER_PURCHASE,
    MEMBER_MERGED,
    MEMBER_STATE,
    OFFER_ISSUED,
    NOTIFICATION_STATUS,
    NOTIFICATION_RECEIPT,
    MEMBER_CONSENT,
    INGEST_DLQ,
    SCORING_DLQ,
    CAMPAIGNS_DLQ,
    NOTIFIER_DLQ,
)
TOPICS_BY_NAME = {spec.name: spec for spec in ALL_TOPICS}


def dlq_for(service: str) -> TopicSpec:
    return TOPICS_BY_NAME[f"{service}.dlq.v1"]


def topic_for_contract(contract: type[BaseModel]) -> TopicSpec:
    matches = [spec for spec in ALL_TOPICS if spec.contract is contract]
    if len(matches) != 1:
        raise LookupError(f"{contract.__name__} is carried by {len(matches)} topics, expected one")
    return matches[0]
