"""What the format adapter tests share: the fixed parse context, fixtures and rejection codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.ingest.domain.errors import InvalidRecord
from services.ingest.domain.model import Ignored, Parsed
from services.ingest.domain.payloads import ParseContext

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ingest"
SALT = b"test-salt"
CTX = ParseContext(salt=SALT, now=datetime(2026, 11, 22, tzinfo=UTC))

ZWNJ = "\u200c"  # zero-width non-joiner: Persian needs it between "می" and "شود"
GREETINGS = {
    "zh": "今晚八点团购开始🎉",
    "kk": "Сәлеметсіз бе! Жеңілдік қашан?",
    "fa": f"سلام، تخفیف کی شروع می{ZWNJ}شود؟",
}

Parser = Callable[[bytes, ParseContext], Parsed | Ignored]


def fixture(source: str, name: str) -> bytes:
    return (FIXTURES / source / name).read_bytes()


def json_fixture(source: str, name: str, **changes: Any) -> bytes:
    """A JSON fixture with ``changes`` applied; a field changed to ``...`` is left out."""
    record = json.loads(fixture(source, name)) | changes
    return json.dumps({key: value for key, value in record.items() if value is not ...}, ensure_ascii=False).encode()


def rejection(parse: Parser, body: bytes) -> str:
    """The code ``parse`` rejects ``body`` with."""
    with pytest.raises(InvalidRecord) as caught:
        parse(body, CTX)
    return caught.value.code


def nested_json(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth
