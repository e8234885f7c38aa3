"""Raw upstream records on ``raw.chat.v1`` / ``raw.purchase.v1``.

Upstream systems publish their native payloads (WeChat XML, WeCom JSON, POS JSON, ...)
unchanged. The record carries the source format in the ``mp-source-format`` header
(or, for JSON bodies, a top-level ``source_format`` field); ingest normalises it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SOURCE_FORMAT_HEADER = "mp-source-format"


class SourceFormat(StrEnum):
    WECHAT_OA = "wechat_oa"
    WECOM_ARCHIVE = "wecom_archive"
    CHAT_JSON = "chat_json"
    POS_RECEIPT = "pos_receipt"
    ECOM_ORDER = "ecom_order"
    PURCHASES_CSV = "purchases_csv"


class RawUpstreamRecord(BaseModel):
    """How a raw record is described for integrators: the body is the upstream's own bytes."""

    model_config = ConfigDict(frozen=True, extra="allow")

    source_format: SourceFormat = Field(description=f"Also accepted as the Kafka header {SOURCE_FORMAT_HEADER}")
