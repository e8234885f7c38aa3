"""What ingest consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import INGEST_DLQ, MEMBER_CHAT, MEMBER_COMMUNITY, RAW_CHAT

# raw.purchase.v1 joins when the purchase adapters land; until then its records wait in Kafka.
CONSUMES = (RAW_CHAT,)
PUBLISHES = (MEMBER_CHAT, MEMBER_COMMUNITY, INGEST_DLQ)
