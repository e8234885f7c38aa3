"""Event contracts: one versioned pydantic v2 model per event type, the topic registry and the envelope."""

from shared.contracts.base import Contract, MemberEvent, Money
from shared.contracts.dlq import DeadLetterV1
from shared.contracts.envelope import CloudEvent, EnvelopeError, KafkaRecord, derived_event_id, unwrap, wrap
from shared.contracts.member import (
    ChatKind,
    CommunityAction,
    MemberChatV1,
    MemberCommunityV1,
    MemberMergedV1,
    MemberPurchaseV1,
    PurchaseChannel,
    PurchaseKind,
    PurchaseLine,
)
from shared.contracts.offer import (
    Channel,
    DeliveryStatus,
    MemberConsentV1,
    MessageType,
    NotificationReceiptV1,
    NotificationStatusV1,
    OfferIssuedV1,
)
from shared.contracts.raw import SOURCE_FORMAT_HEADER, RawUpstreamRecord, SourceFormat
from shared.contracts.state import EngagementTier, Lifecycle, MemberStateV1, ValueTier
from shared.contracts.topics import ALL_TOPICS, TOPICS_BY_NAME, TopicSpec, dlq_for, topic_for_contract

__all__ = [
    "ALL_TOPICS",
    "SOURCE_FORMAT_HEADER",
    "TOPICS_BY_NAME",
    "Channel",
    "ChatKind",
    "CloudEvent",
    "CommunityAction",
    "Contract",
    "DeadLetterV1",
    "DeliveryStatus",
    "EngagementTier",
    "EnvelopeError",
    "KafkaRecord",
    "Lifecycle",
    "MemberChatV1",
    "MemberCommunityV1",
    "MemberConsentV1",
    "MemberEvent",
    "MemberMergedV1",
    "MemberPurchaseV1",
    "MemberStateV1",
    "MessageType",
    "Money",
    "NotificationReceiptV1",
    "NotificationStatusV1",
    "OfferIssuedV1",
    "PurchaseChannel",
    "PurchaseKind",
    "PurchaseLine",
    "RawUpstreamRecord",
    "SourceFormat",
    "TopicSpec",
    "ValueTier",
    "derived_event_id",
    "dlq_for",
    "topic_for_contract",
    "unwrap",
    "wrap",
]
