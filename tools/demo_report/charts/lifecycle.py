"""Lifecycle: where members moved during the run (a two-column flow chart) and the states per month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from tools.demo_report.charts.base import MUTED, colours, label, new_figure, ordered, styled, to_svg
from tools.demo_report.charts.chart import Chart, share
from tools.demo_report.charts.palette import LIFECYCLE, LIFECYCLE_ORDER
from tools.demo_report.charts.stacked import stacked_area
from tools.demo_report.facts import LifecycleFlow, LifecycleOverTime

NODE_W = 0.035
GAP = 0.04  # between nodes, as a fraction of the column height
LEFT, RIGHT = 0.2, 0.8  # where the columns stand on [0, 1]
STACK_TOP_DOWN = ("active", "reactivated", "new", "at_risk", "dormant")


def states_over_time(data: LifecycleOverTime) -> Chart:
    months, states = data["months"], data["states"]
    caption = "Members per lifecycle state at each month end; the amber band is at risk, the grey one dormant."
    if months and states.get("at_risk"):
        at_risk = states["at_risk"][-1]
        total = sum(v[-1] for v in states.values() if v)
        caption = (
            f"At the end, {at_risk:,} members ({share(at_risk, total)}) are at risk and "
            f"{states.get('dormant', [0])[-1]:,} dormant. " + caption
        )
    return Chart(
        "lifecycle-states",
        "Lifecycle states over time",
        stacked_area("lifecycle-states", months, states, STACK_TOP_DOWN, LIFECYCLE),
        caption,
    )


def flows(data: Sequence[LifecycleFlow]) -> Chart:
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for f in data:
        merged[(f["from"], f["to"])] += f["count"]
    kept: list[LifecycleFlow] = [{"from": a, "to": b, "count": n} for (a, b), n in merged.items() if n > 0]
    total = sum(f["count"] for f in kept)
    top = max(kept, key=lambda f: f["count"], default=None)
    caption = "Each band is one transition; its thickness is how many members made it, its colour the state reached."
    if top is not None:
        caption = (
            f"{total:,} transitions in all; the largest is {label(top['from'])} → {label(top['to'])} "
            f"({top['count']:,}). " + caption
        )
    with styled():
        fig = new_figure(4.6)
        ax = fig.add_subplot()
        if kept:
            _draw(ax, kept)
        else:
            ax.text(0.5, 0.5, "no transitions", ha="center", va="center", color=MUTED)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.06)
        ax.set_axis_off()
        return Chart("lifecycle-flows", "Lifecycle flows over the run", to_svg(fig, "lifecycle-flows"), caption)


def _draw(ax: Axes, kept: Sequence[LifecycleFlow]) -> None:
    states = ordered([f["from"] for f in kept] + [f["to"] for f in kept], LIFECYCLE_ORDER)
    colour = colours(states, LIFECYCLE)
    rank = {s: i for i, s in enumerate(states)}
    out_total: dict[str, int] = defaultdict(int)
    in_total: dict[str, int] = defaultdict(int)
    for f in kept:
        out_total[f["from"]] += f["count"]
        in_total[f["to"]] += f["count"]
    sources = [s for s in states if s in out_total]
    targets = [s for s in states if s in in_total]
    scale = (1.0 - GAP * (max(len(sources), len(targets)) - 1)) / sum(out_total.values())
    left, right = _column(sources, out_total, scale), _column(targets, in_total, scale)
    # Bands leave a source in the order of their target and enter a target in the order of their source,
    # so they cross as little as possible.
    starts = _stack(sorted(kept, key=lambda f: (rank[f["from"]], rank[f["to"]])), left, "from", scale)
    ends = _stack(sorted(kept, key=lambda f: (rank[f["to"]], rank[f["from"]])), right, "to", scale)
    for f in kept:
        h = f["count"] * scale
        y0, y1 = starts[(f["from"], f["to"])], ends[(f["from"], f["to"])]
        _band(ax, y0, y1, h, colour[f["to"]])
        if h > 0.035:
            ax.text(LEFT + NODE_W + 0.01, y0 - h / 2, f"{f['count']:,} → {label(f['to'])}", va="center", fontsize=8.5)
    for side, column, totals in (("left", left, out_total), ("right", right, in_total)):
        for state, (top, h) in column.items():
            x = LEFT if side == "left" else RIGHT - NODE_W
            ax.add_patch(Rectangle((x, top - h), NODE_W, h, facecolor=colour[state], edgecolor="none"))
            tx, ha = (x - 0.012, "right") if side == "left" else (x + NODE_W + 0.012, "left")
            ax.text(tx, top - h / 2, f"{label(state)}  {totals[state]:,}", ha=ha, va="center", fontsize=9.5)
    ax.text(LEFT + NODE_W / 2, 1.03, "from", ha="center", va="bottom", color=MUTED, fontsize=9)
    ax.text(RIGHT - NODE_W / 2, 1.03, "to", ha="center", va="bottom", color=MUTED, fontsize=9)


def _column(states: list[str], totals: dict[str, int], scale: float) -> dict[str, tuple[float, float]]:
    """Each state's node as (top, height) on [0, 1], top-down with gaps."""
    nodes: dict[str, tuple[float, float]] = {}
    top = 1.0
    for s in states:
        h = totals[s] * scale
        nodes[s] = (top, h)
        top -= h + GAP
    return nodes


def _stack(
    flows: Sequence[LifecycleFlow], column: dict[str, tuple[float, float]], end: str, scale: float
) -> dict[tuple[str, str], float]:
    """Where each flow's band touches ``column`` (its top), stacking the flows down each node in order."""
    cursor = {s: top for s, (top, _h) in column.items()}
    tops: dict[tuple[str, str], float] = {}
    for f in flows:
        node = f["from"] if end == "from" else f["to"]
        tops[(f["from"], f["to"])] = cursor[node]
        cursor[node] -= f["count"] * scale
    return tops


def _band(ax: Axes, y0: float, y1: float, h: float, colour: str) -> None:
    """A band from the left node (top ``y0``) to the right node (top ``y1``), ``h`` thick, S-shaped."""
    x0, x1 = LEFT + NODE_W, RIGHT - NODE_W
    mid = (x0 + x1) / 2
    verts = [
        (x0, y0),
        (mid, y0),
        (mid, y1),
        (x1, y1),
        (x1, y1 - h),
        (mid, y1 - h),
        (mid, y0 - h),
        (x0, y0 - h),
        (x0, y0),
    ]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4, Path.CURVE4]
    codes.append(Path.CLOSEPOLY)
    ax.add_patch(PathPatch(Path(verts, codes), facecolor=colour, edgecolor="none", alpha=0.45))
