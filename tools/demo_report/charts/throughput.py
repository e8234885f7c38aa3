"""The pipeline while it ran: records each service had finished, and consumer lag, over run time."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.ticker import PercentFormatter

from tools.demo_report.charts.base import count_axis, legend_above, new_figure, ordered, styled, to_svg
from tools.demo_report.charts.chart import Chart
from tools.demo_report.charts.palette import SERVICE_ORDER, SERVICES
from tools.demo_report.facts import ThroughputSample

DONE = (
    ("published", "published"),
    ("ingest_done", "ingest"),
    ("scoring_done", "scoring"),
    ("campaigns_done", "campaigns"),
    ("notifier_done", "notifier"),
)


def records_done(samples: Sequence[ThroughputSample]) -> Chart:
    """Each service's records done as a share of its own final count: services far apart in volume share one axis."""
    t = [s["t_s"] for s in samples]
    finals: dict[str, int] = {}
    with styled():
        fig = new_figure(3.3)
        ax = fig.add_subplot()
        for field, name in DONE:
            values = [int(s[field]) for s in samples]  # type: ignore[literal-required]
            finals[name] = final = max(values, default=0)
            shares = [100.0 * v / final if final else 0.0 for v in values]
            style = "--" if name == "published" else "-"
            ax.plot(t, shares, style, color=SERVICES[name], linewidth=2.0, label=f"{name} ({final:,})")
        ax.set_xlabel("seconds since the run started")
        ax.set_ylabel("% of its final count done")
        ax.set_xlim(left=0, right=t[-1] if t and t[-1] > 0 else 1)
        ax.set_ylim(0, 104)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.grid(axis="x", visible=False)
        legend_above(ax)
        svg = to_svg(fig, "throughput")
    caption = (
        "Each line climbs to 100 % when that service has finished everything it got (its total in the legend); "
        "the gap between the dashed published line and a service's line is how far behind it ran."
    )
    done_at = _finished_at(samples)
    if done_at is not None:
        caption = f"The notifier settled the last message {done_at:,.0f} s into the run. " + caption
    return Chart("throughput", "Pipeline throughput", svg, caption)


def _finished_at(samples: Sequence[ThroughputSample]) -> float | None:
    final = max((s["notifier_done"] for s in samples), default=0)
    return next((s["t_s"] for s in samples if final and s["notifier_done"] >= final), None)


def lag(samples: Sequence[ThroughputSample]) -> Chart:
    t = [s["t_s"] for s in samples]
    services = ordered({name for s in samples for name in s["lag"]}, SERVICE_ORDER)
    peaks: dict[str, int] = {}
    with styled():
        fig = new_figure(2.8)
        ax = fig.add_subplot()
        for name in services:
            values = [int(s["lag"].get(name, 0)) for s in samples]
            peaks[name] = max(values, default=0)
            ax.plot(t, values, color=SERVICES.get(name, "#6b7280"), linewidth=2.0, label=name)
            ax.fill_between(t, values, color=SERVICES.get(name, "#6b7280"), alpha=0.08, linewidth=0)
        count_axis(ax)
        ax.set_xlabel("seconds since the run started")
        ax.set_ylabel("consumer lag (records)")
        ax.set_xlim(left=0, right=t[-1] if t and t[-1] > 0 else 1)
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
        legend_above(ax)
        svg = to_svg(fig, "lag")
    worst = max(peaks, key=lambda n: peaks[n], default=None)
    caption = "Records waiting in each service's input topics; lag that falls back to zero means the service keeps up."
    if worst is not None:
        caption = f"Peak lag: {peaks[worst]:,} records at {worst}. " + caption
    return Chart("lag", "Consumer lag over run time", svg, caption)
