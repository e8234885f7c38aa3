"""Notifier outcomes per channel: one stacked bar per channel, one colour per status."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tools.demo_report.charts.base import colours, count_axis, label, legend_above, new_figure, ordered, styled, to_svg
from tools.demo_report.charts.chart import Chart, share
from tools.demo_report.charts.palette import DELIVERY, DELIVERY_ORDER
from tools.demo_report.facts import Delivery


def outcomes(data: Sequence[Delivery]) -> Chart:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in data:
        counts[row["channel"]][row["status"]] += row["count"]
    channels = sorted(counts, key=lambda c: (-sum(counts[c].values()), c))
    statuses = ordered({s for c in counts.values() for s in c}, DELIVERY_ORDER)
    colour = colours(statuses, DELIVERY)
    with styled():
        fig = new_figure(1.1 + 0.5 * max(len(channels), 2))
        ax = fig.add_subplot()
        y = list(range(len(channels)))[::-1]
        left = [0] * len(channels)
        for status in statuses:
            values = [counts[c].get(status, 0) for c in channels]
            ax.barh(y, values, left=left, height=0.62, color=colour[status], label=label(status), linewidth=0)
            left = [a + b for a, b in zip(left, values, strict=True)]
        for yi, total in zip(y, left, strict=True):
            ax.text(total, yi, f"  {total:,}", va="center", fontsize=8.5)
        ax.set_yticks(y, channels)
        count_axis(ax, "x")
        ax.set_xlabel("messages")
        ax.margins(x=0.08)
        legend_above(ax)
        svg = to_svg(fig, "delivery")
    total = sum(sum(c.values()) for c in counts.values())
    reached = sum(c.get("sent", 0) + c.get("delivered", 0) for c in counts.values())
    delivered = sum(c.get("delivered", 0) for c in counts.values())
    failed = sum(c.get("failed", 0) for c in counts.values())
    suppressed = sum(c.get("suppressed", 0) for c in counts.values())
    caption = (
        f"{reached:,} of {total:,} messages reached the provider ({share(reached, total)}; {delivered:,} with a "
        f"delivery receipt), {failed:,} failed ({share(failed, total)}) and {suppressed:,} were suppressed "
        f"({share(suppressed, total)}): expired before they could be sent (a replayed year's offers mostly are), "
        "or no consent or contact point. Red is failure."
    )
    return Chart("delivery", "Delivery outcomes per channel", svg, caption)
