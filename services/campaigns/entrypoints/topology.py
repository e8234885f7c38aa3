"""What campaigns consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import (
    CAMPAIGNS_DLQ,
    MEMBER_CHAT,
    MEMBER_CONSENT,
    MEMBER_MERGED,
    MEMBER_PURCHASE,
    MEMBER_STATE,
    NOTIFICATION_STATUS,
    OFFER_ISSUED,
)

# State changes and purchases trigger offers; chats feed community interest; consent and
# delivery statuses keep campaigns' own copies current; merges fold one person's ids together.
CONSUMES = (MEMBER_STATE, MEMBER_PURCHASE, MEMBER_CHAT, MEMBER_CONSENT, NOTIFICATION_STATUS, MEMBER_MERGED)
PUBLISHES = (OFFER_ISSUED, CAMPAIGNS_DLQ)
