"""Splitting a backfill file into upstream records: JSON Lines, XML documents or CSV receipts.

Records are yielded with the number of bytes of the file consumed so far, for the progress bar.
Bodies are passed on untouched where the format allows (JSON Lines, CSV rows), so a bad record
reaches the consumer and the DLQ exactly as it would have arrived live.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from services.ingest.domain.formats.purchases_csv import split_receipts


class ReplayFileError(ValueError):
    """The file as a whole cannot be read as the chosen layout."""


def file_layout(path: Path, explicit: str | None) -> str:
    layout = explicit or {".jsonl": "jsonl", ".ndjson": "jsonl", ".xml": "xml", ".csv": "csv"}.get(path.suffix.lower())
    if layout not in ("jsonl", "xml", "csv"):
        raise ReplayFileError(f"cannot tell the layout of {path.name}; pass --layout jsonl|xml|csv")
    return layout


def records(path: Path, layout: str) -> Iterator[tuple[bytes, int]]:
    if layout == "jsonl":
        return _json_lines(path)
    if layout == "xml":
        return _xml_documents(path)
    return _csv_receipts(path)


def _json_lines(path: Path) -> Iterator[tuple[bytes, int]]:
    consumed = 0
    with path.open("rb") as file:
        for line in file:
            consumed += len(line)
            body = line.rstrip(b"\r\n")
            if body.strip():
                yield body, consumed


def _xml_documents(path: Path) -> Iterator[tuple[bytes, int]]:
    """Each ``<xml>`` message, whether the file holds one or many wrapped in any root element."""
    size = path.stat().st_size
    depth = 0
    try:
        with path.open("rb") as file:
            for event, element in SafeET.iterparse(file, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if element.tag == "xml" and depth <= 1:
                    yield ET.tostring(element, encoding="utf-8"), min(file.tell(), size)
                    element.clear()
    except DefusedXmlException as exc:
        raise ReplayFileError(f"{path.name}: refused ({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ReplayFileError(f"{path.name}: not well-formed XML: {exc}") from None


def _csv_receipts(path: Path) -> Iterator[tuple[bytes, int]]:
    # Rows of one receipt may be anywhere in an export, so the file is grouped as a whole.
    size = path.stat().st_size
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReplayFileError(f"{path.name}: not UTF-8 ({exc})") from None
    bodies = list(split_receipts(text))
    for index, body in enumerate(bodies, start=1):
        yield body, size * index // len(bodies)
