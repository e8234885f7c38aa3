"""Publishing raw upstream bodies to the raw topics, as the HTTP API and file replay do.

Both entry points hand records to the same Kafka consumer as upstream publishers do, so an
event gives the same result whichever way it arrived.
"""

from __future__ import annotations

from services.ingest.domain.model import Ignored, Parsed
from shared.contracts import SOURCE_FORMAT_HEADER, KafkaRecord, SourceFormat
from shared.contracts.topics import RAW_CHAT, RAW_PURCHASE

_PURCHASE_FORMATS = {SourceFormat.POS_RECEIPT, SourceFormat.ECOM_ORDER, SourceFormat.PURCHASES_CSV}


def raw_topic_for(source_format: str) -> str:
    return RAW_PURCHASE.name if source_format in _PURCHASE_FORMATS else RAW_CHAT.name


def raw_record(
    source_format: str, body: bytes, parsed: Parsed | Ignored | None, extra_headers: tuple[tuple[str, bytes], ...] = ()
) -> KafkaRecord:
    """Keyed by the member's most trusted identifier hash, so one member's records stay in order."""
    key = parsed.identifiers[0].digest.encode() if isinstance(parsed, Parsed) else None
    return KafkaRecord(
        topic=raw_topic_for(source_format),
        key=key,
        value=body,
        headers=((SOURCE_FORMAT_HEADER, source_format.encode()), *extra_headers),
    )
