"""What the template draws: sections of blocks (a chart, tables, a few headline numbers, or a note)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tools.demo_report.charts.chart import Chart

NOT_MEASURED = "not measured in this run"


@dataclass(frozen=True)
class Cell:
    text: str
    kind: Literal["text", "num", "ok", "bad", "code"] = "text"
    href: str | None = None  # only ever http(s); anything else stays text


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()  # per column: right-aligned
    total_row: bool = False  # the last row sums the others


@dataclass(frozen=True)
class Stat:
    label: str
    value: str
    hint: str = ""
    tone: Literal["plain", "ok", "bad"] = "plain"


@dataclass(frozen=True)
class Block:
    title: str
    kind: Literal["chart", "tables", "stats", "missing", "error"]
    chart: Chart | None = None
    tables: tuple[Table, ...] = ()
    stats: tuple[Stat, ...] = ()
    note: str = ""
    verdict: Literal["ok", "bad"] | None = None  # a check's outcome, shown above the tables


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    lede: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)


def missing(title: str) -> Block:
    return Block(title, "missing", note=NOT_MEASURED)
