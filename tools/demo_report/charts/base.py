"""Figures in the report's style, turned into inline SVG that is the same for the same data.

No pyplot: every chart builds its own ``Figure``, so nothing global changes and nothing needs a display.
The style lives in one ``rc_context``; ``to_svg`` makes the markup safe to inline next to other charts
(ids prefixed per chart, no XML prolog, no metadata, no namespace URLs).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

WIDTH_IN = 10.0  # full-width chart; the page scales the SVG to its column
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
FALLBACK = (
    "#2563eb",
    "#f59e0b",
    "#10b981",
    "#ef4444",
    "#8b5cf6",
    "#06b6d4",
    "#ec4899",
    "#84cc16",
    "#f97316",
    "#64748b",
)

STYLE: dict[str, object] = {
    "svg.hashsalt": "memberpulse-demo-report",
    "svg.fonttype": "none",  # real <text>: crisp, selectable, small
    "text.parse_math": False,  # a "$5 off" campaign stays text
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 10,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#9ca3af",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


@contextmanager
def styled() -> Iterator[None]:
    """The report's matplotlib settings, for building and saving a figure."""
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        yield


def new_figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    return Figure(figsize=(width_in, height_in), layout="constrained")


def to_svg(fig: Figure, key: str) -> str:
    """The figure as an ``<svg>`` element whose ids start with ``key`` (so charts can share a page)."""
    buf = io.StringIO()
    with styled():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _XMLNS.sub("", _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1))
    ids = set(_ID.findall(svg))
    svg = _REF.sub(lambda m: f"{m[1]}{key}-{m[2]}" if m[2] in ids else m[0], svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{key}" ', 1).strip()


def colours(keys: Iterable[str], known: Mapping[str, str]) -> dict[str, str]:
    """A colour per key: the known ones from ``known``, the rest from a fixed cycle, in order."""
    spare = iter([c for c in FALLBACK if c not in known.values()] * 4)
    return {k: known.get(k) or next(spare, MUTED) for k in keys}


def ordered(keys: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """``keys`` with the ``preferred`` ones first in that order, the others sorted after them."""
    present = list(dict.fromkeys(keys))
    return [k for k in preferred if k in present] + sorted(k for k in present if k not in preferred)


NAMES = {"p_alive_below_threshold": "P(alive) below threshold", "vip": "VIP"}


def label(code: str) -> str:
    """A code as words ("at_risk" -> "at risk"); also legend-safe (matplotlib hides labels starting with "_")."""
    return NAMES.get(code, code.replace("_", " ").strip() or code)


def month_axis(ax: Axes, months: Sequence[str], max_ticks: int = 12) -> None:
    """Months on x (index positions), at most ``max_ticks`` labelled."""
    step = max(1, -(-len(months) // max_ticks))
    ticks = list(range(0, len(months), step))
    ax.set_xticks(ticks, [months[i] for i in ticks])
    ax.set_xlim(-0.5 if len(months) < 2 else 0, max(len(months) - 1, 0.5))
    ax.tick_params(axis="x", labelrotation=0)


def count_axis(ax: Axes, axis: str = "y") -> None:
    """Integer counts with thousands separators."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=6, integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    if axis == "y":
        ax.grid(axis="x", visible=False)
    else:
        ax.grid(axis="y", visible=False)


def legend_above(ax: Axes, reverse: bool = False) -> None:
    """Legend above the plot, left-aligned, read row by row (so every chart's plot spans the same width);
    ``reverse`` lists a stack from its top band down."""
    handles, labels = ax.get_legend_handles_labels()
    if reverse:
        handles, labels = handles[::-1], labels[::-1]
    ncol = _legend_columns(labels)
    rows = -(-len(labels) // ncol)
    # matplotlib fills a legend column by column; this order makes it read row by row.
    order = [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < len(labels)]
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.01),
        ncol=ncol,
        borderaxespad=0.0,
        handlelength=1.4,
        columnspacing=1.4,
    )


def _legend_columns(labels: Sequence[str], width_chars: int = 100) -> int:
    """As many columns as fit in one row of about ``width_chars`` characters, else two rows' worth."""
    if sum(len(t) + 5 for t in labels) <= width_chars:
        return max(1, len(labels))
    return max(1, -(-len(labels) // 2))


def fmt(n: float) -> str:
    return f"{n:,.0f}"
