"""What ingest consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from shared.contracts.topics import (
    INGEST_DLQ,
    MEMBER_CHAT,
    MEMBER_COMMUNITY,
    MEMBER_MERGED,
    MEMBER_PURCHASE,
    NOTIFICATION_RECEIPT,
    RAW_CHAT,
    RAW_PURCHASE,
)

CONSUMES = (RAW_CHAT, RAW_PURCHASE)
# The topics read in event-time order downstream (scoring's input): they carry ingest's progress marks.
PUBLISHES = (MEMBER_CHAT, MEMBER_COMMUNITY, MEMBER_PURCHASE, MEMBER_MERGED, NOTIFICATION_RECEIPT, INGEST_DLQ)
# Ingest writes progress marks on every topic it publishes that is declared marked.
MARKED = tuple(topic for topic in PUBLISHES if topic.progress_marked)
