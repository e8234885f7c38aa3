"""What scoring consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import (
    MEMBER_CHAT,
    MEMBER_COMMUNITY,
    MEMBER_MERGED,
    MEMBER_PURCHASE,
    MEMBER_STATE,
    SCORING_DLQ,
)

CONSUMES = (MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_PURCHASE, MEMBER_MERGED)
PUBLISHES = (MEMBER_STATE, SCORING_DLQ)
