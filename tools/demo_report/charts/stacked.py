"""Stacked areas of counts per month: tiers and lifecycle states over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.demo_report.charts.base import (
    colours,
    count_axis,
    label,
    legend_above,
    month_axis,
    new_figure,
    ordered,
    styled,
    to_svg,
)


def stacked_area(
    key: str,
    months: Sequence[str],
    series: Mapping[str, Sequence[int]],
    top_down: Sequence[str],
    palette: Mapping[str, str],
    y_label: str = "members",
) -> str:
    """Series stacked bottom-up in reverse ``top_down`` order, so its first key is the top band."""
    keys = ordered(series, top_down)
    bottom_up = keys[::-1]
    colour = colours(keys, palette)
    x = list(range(len(months)))
    with styled():
        fig = new_figure(3.4)
        ax = fig.add_subplot()
        ax.stackplot(
            x,
            *[_fit(series[k], len(months)) for k in bottom_up],
            labels=[label(k) for k in bottom_up],
            colors=[colour[k] for k in bottom_up],
            edgecolor="white",
            linewidth=0.6,
        )
        month_axis(ax, months)
        count_axis(ax)
        ax.set_ylabel(y_label)
        ax.set_xlabel("month end")
        ax.margins(x=0)
        legend_above(ax, reverse=True)
        return to_svg(fig, key)


def _fit(values: Sequence[int], n: int) -> list[int]:
    """Exactly ``n`` values: a short series is padded with zeros, a long one cut."""
    return [int(v) for v in values[:n]] + [0] * max(0, n - len(values))
