"""Churn warnings: members entering at risk each month, stacked by the reason that put them there."""

from __future__ import annotations

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
from tools.demo_report.charts.chart import Chart, share
from tools.demo_report.charts.palette import CHURN_REASON_ORDER, CHURN_REASONS
from tools.demo_report.facts import ChurnWarningsOverTime


def warnings_over_time(data: ChurnWarningsOverTime) -> Chart:
    months, by_reason = data["months"], data["by_reason"]
    reasons = ordered(by_reason, CHURN_REASON_ORDER)
    colour = colours(reasons, CHURN_REASONS)
    n = len(months)
    x = list(range(n))
    with styled():
        fig = new_figure(3.4)
        ax = fig.add_subplot()
        bottom = [0] * n
        for reason in reasons:
            values = [int(v) for v in by_reason[reason][:n]] + [0] * max(0, n - len(by_reason[reason]))
            ax.bar(x, values, bottom=bottom, width=0.8, color=colour[reason], label=label(reason), linewidth=0)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        month_axis(ax, months)
        ax.set_xlim(-0.6, n - 0.4)
        count_axis(ax)
        ax.set_ylabel("members warned")
        ax.set_xlabel("month")
        legend_above(ax, reverse=True)
        svg = to_svg(fig, "churn-warnings")
    totals = {r: sum(by_reason[r]) for r in reasons}
    everyone = sum(totals.values())
    caption = "Each bar counts the members who entered at risk that month, coloured by the first reason code."
    if everyone:
        top = max(reasons, key=lambda r: totals[r])
        caption = (
            f"{everyone:,} warnings in all; “{label(top)}” is the most common reason ({share(totals[top], everyone)}). "
            + caption
        )
    return Chart("churn-warnings", "Churn warnings over time, by reason", svg, caption)
