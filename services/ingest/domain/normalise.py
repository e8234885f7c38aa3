"""One parser per upstream source format, and the dispatch from a format name to it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.formats import chat_json, ecom_order, pos_receipt, purchases_csv, wechat_oa, wecom_archive
from services.ingest.domain.model import Ignored, Parsed
from services.ingest.domain.payloads import ParseContext

Parser = Callable[[bytes, ParseContext], Parsed | Ignored]

PARSERS: Mapping[str, Parser] = {
    module.SOURCE: module.parse
    for module in (wechat_oa, wecom_archive, chat_json, pos_receipt, ecom_order, purchases_csv)
}


def parse_record(source_format: str, body: bytes, ctx: ParseContext) -> Parsed | Ignored:
    parser = PARSERS.get(source_format)
    if parser is None:
        raise InvalidRecord(
            "unknown_source_format", f"source format {source_format[:64]!r} is not one of {sorted(PARSERS)}"
        )
    return parser(body, ctx)
