"""Dispatch of a raw upstream payload to its format's normaliser."""

from __future__ import annotations

from typing import Any

from services.ingest.domain import chat_json
from services.ingest.domain.errors import InvalidRecord
from shared.contracts import MemberChatV1, MemberCommunityV1, SourceFormat

CanonicalEvent = MemberChatV1 | MemberCommunityV1


def normalise(source_format: str, payload: dict[str, Any], salt: bytes) -> CanonicalEvent:
    try:
        fmt = SourceFormat(source_format)
    except ValueError:
        raise InvalidRecord("unknown_source_format", f"source format {source_format!r} is not known") from None
    if fmt is SourceFormat.CHAT_JSON:
        return chat_json.normalise(payload, salt)
    raise InvalidRecord("unsupported_source_format", f"{fmt.value} is not supported yet")
