"""What campaigns consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import CAMPAIGNS_DLQ, MEMBER_STATE, OFFER_ISSUED

CONSUMES = (MEMBER_STATE,)
PUBLISHES = (OFFER_ISSUED, CAMPAIGNS_DLQ)
