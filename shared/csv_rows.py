"""Reference CSV files (stores, catalog) read row by row, every problem named by its line.

The chain's merchandisers export these files by hand, so a load must say exactly which line is
wrong, and refuse the whole file rather than load half of it: the callers raise before writing.
Pure text handling, no I/O, so a service's domain may use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Checks a cell's value; returns why it is wrong, or None when it is fine.
CellCheck = Callable[[str], str | None]


class CsvRowError(ValueError):
    """The file cannot be loaded; the message starts with the line it is about."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class CsvRow:
    line: int  # as an editor shows it: the header is line 1
    values: Mapping[str, str]  # every expected column, stripped; a missing cell is ""


def read_rows(
    text: str,
    columns: Sequence[str],
    *,
    required: Sequence[str] = (),
    checks: Mapping[str, CellCheck] | None = None,
) -> list[CsvRow]:
    """The rows of a CSV whose header names at least ``columns``, checked, in file order.

    Extra columns are ignored, so a richer export loads unchanged. A non-empty cell of a column in
    ``checks`` must pass its check; empty cells are only refused for ``required`` columns.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))  # Excel writes a BOM
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise CsvRowError(1, f"the header lacks {missing}; expected {list(columns)}")
    rows: list[CsvRow] = []
    for row in reader:
        # The reader's own count, not enumerate(): a quoted cell may span lines.
        line = reader.line_num
        values = {c: (row.get(c) or "").strip() for c in columns}
        empty = [c for c in required if not values[c]]
        if empty:
            raise CsvRowError(line, f"{empty} must not be empty")
        for column, check in (checks or {}).items():
            if values[column] and (problem := check(values[column])) is not None:
                raise CsvRowError(line, problem)
        rows.append(CsvRow(line, values))
    return rows


def last_per_key(rows: Sequence[CsvRow], key: str) -> list[CsvRow]:
    """One row per ``key``: a later row for the same key wins, as it would in an upsert."""
    by_key: dict[str, CsvRow] = {}
    for row in rows:
        by_key[row.values[key]] = row
    return list(by_key.values())


def iana_time_zone(name: str) -> str | None:
    """A cell check: the value must name an IANA time zone (``Asia/Shanghai``), not an offset or a city."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "Asia"
        return f"{name!r} is not an IANA time zone"
    return None
