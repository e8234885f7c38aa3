"""What notifier consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import MEMBER_CONSENT, NOTIFICATION_STATUS, NOTIFIER_DLQ, OFFER_ISSUED

CONSUMES = (OFFER_ISSUED,)
PUBLISHES = (NOTIFICATION_STATUS, MEMBER_CONSENT, NOTIFIER_DLQ)
