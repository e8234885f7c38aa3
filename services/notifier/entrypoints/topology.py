"""What notifier consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import (
    MEMBER_CONSENT,
    NOTIFICATION_RECEIPT,
    NOTIFICATION_STATUS,
    NOTIFIER_DLQ,
    OFFER_ISSUED,
)

# Consent from every source (including the notifier's own inbound) keeps its local copy complete;
# receipts are the providers' word on messages it sent, relayed by ingest's callbacks.
CONSUMES = (OFFER_ISSUED, MEMBER_CONSENT, NOTIFICATION_RECEIPT)
PUBLISHES = (NOTIFICATION_STATUS, MEMBER_CONSENT, NOTIFIER_DLQ)
