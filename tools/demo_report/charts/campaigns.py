"""Campaigns: what was decided per offer kind, why candidates were suppressed, the funnel, and uplift."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.patches import Patch

from tools.demo_report.charts.base import (
    MUTED,
    colours,
    count_axis,
    fmt,
    label,
    legend_above,
    new_figure,
    styled,
    to_svg,
)
from tools.demo_report.charts.chart import Chart, share
from tools.demo_report.charts.palette import FUNNEL, NEGATIVE, NEUTRAL, OUTCOME_ORDER, OUTCOMES, POSITIVE, STAGES
from tools.demo_report.facts import FunnelStage, OffersByKind, Suppression, Uplift

STAGE_NAMES = ("decided", "issued", "sent", "delivered", "converted")


def offers(data: Sequence[OffersByKind]) -> Chart:
    rows = list(data)
    names = [f"{r['campaign']} · {r['kind']}" for r in rows]
    with styled():
        fig = new_figure(1.0 + 0.45 * len(rows))
        ax = fig.add_subplot()
        y = list(range(len(rows)))[::-1]
        left = [0] * len(rows)
        for outcome in OUTCOME_ORDER:
            values = [int(r[outcome]) for r in rows]  # type: ignore[literal-required]
            ax.barh(y, values, left=left, height=0.62, color=OUTCOMES[outcome], label=outcome, linewidth=0)
            left = [a + b for a, b in zip(left, values, strict=True)]
        for yi, r, end in zip(y, rows, left, strict=True):
            ax.text(end, yi, f"  {r['decided']:,} decided", va="center", fontsize=8.5, color=MUTED)
        ax.set_yticks(y, names)
        count_axis(ax, "x")
        ax.set_xlabel("candidates")
        ax.margins(x=0.12)
        legend_above(ax)
        svg = to_svg(fig, "offers-by-kind")
    decided = sum(r["decided"] for r in rows)
    issued = sum(r["issued"] for r in rows)
    caption = (
        f"{issued:,} of {decided:,} candidates became offers ({share(issued, decided)}); "
        "the light bars are the holdout that measures uplift, the grey ones were stopped by a guard."
    )
    return Chart("offers-by-kind", "Campaign decisions per offer kind", svg, caption)


def suppressions(data: Sequence[Suppression]) -> Chart:
    rows = sorted(data, key=lambda r: (r["stage"] != "campaigns", -r["count"], r["reason"]))
    colour = colours([r["stage"] for r in rows], STAGES)
    with styled():
        fig = new_figure(0.9 + 0.34 * len(rows))
        ax = fig.add_subplot()
        y = list(range(len(rows)))[::-1]
        ax.barh(y, [r["count"] for r in rows], height=0.62, color=[colour[r["stage"]] for r in rows])
        for yi, r in zip(y, rows, strict=True):
            ax.text(r["count"], yi, f" {r['count']:,}", va="center", fontsize=8.5)
        ax.set_yticks(y, [label(r["reason"]) for r in rows])
        count_axis(ax, "x")
        ax.set_xlabel("candidates or messages suppressed")
        ax.margins(x=0.1)
        handles = [Patch(color=c, label=f"by {s}") for s, c in colour.items()]
        ax.legend(handles=handles, loc="lower right")
        svg = to_svg(fig, "suppressions")
    caption = "Why offers (campaigns) or messages (notifier) were not sent; consent, caps and cooldowns are working."
    if rows:
        top = max(rows, key=lambda r: r["count"])
        caption = (
            f"The most common reason is “{label(top['reason'])}” ({top['count']:,}, by {top['stage']}). " + caption
        )
    return Chart("suppressions", "Suppressions by reason", svg, caption)


def funnel(data: Sequence[FunnelStage]) -> Chart:
    rows = list(data)
    cols = min(3, max(1, len(rows)))
    grid_rows = math.ceil(len(rows) / cols) if rows else 1
    with styled():
        fig = new_figure(0.4 + 2.1 * grid_rows)
        axes = fig.subplots(grid_rows, cols, squeeze=False)
        for ax in axes.flat[len(rows) :]:
            ax.set_axis_off()
        for ax, r in zip(axes.flat, rows, strict=False):
            values = [int(r[s]) for s in STAGE_NAMES]  # type: ignore[literal-required]
            top = max(values[0], 1)
            y = list(range(len(STAGE_NAMES)))[::-1]
            widths = [v / top for v in values]
            ax.barh(y, widths, left=[-w / 2 for w in widths], height=0.78, color=FUNNEL, linewidth=0)
            for yi, v, w in zip(y, values, widths, strict=True):
                inside = w > 0.45
                ax.text(
                    0 if inside else w / 2 + 0.03,
                    yi,
                    f"{v:,} · {share(v, values[0])}" if inside else f"{v:,}  ({share(v, values[0])})",
                    ha="center" if inside else "left",
                    va="center",
                    fontsize=8.5,
                    color="white" if inside else "#111827",
                )
            ax.set_yticks(y, STAGE_NAMES)
            ax.set_xlim(-0.55, 0.55)
            ax.set_xticks([])
            ax.grid(False)
            ax.spines[["left", "bottom"]].set_visible(False)
            ax.tick_params(axis="y", length=0)
            ax.set_title(r["campaign"], fontsize=10.5)
        svg = to_svg(fig, "funnel")
    best = max(rows, key=lambda r: r["converted"] / r["decided"] if r["decided"] else 0.0, default=None)
    caption = "Each funnel narrows from candidates decided to members who converted; percentages are of decided."
    if best is not None:
        caption = (
            f"“{best['campaign']}” converts best: {share(best['converted'], best['decided'])} of its candidates. "
            + caption
        )
    return Chart("funnel", "Campaign funnel", svg, caption)


def uplift(data: Sequence[Uplift]) -> Chart:
    rows = list(data)
    with styled():
        fig = new_figure(1.1 + 0.55 * len(rows))
        ax = fig.add_subplot()
        y = list(range(len(rows)))[::-1]
        for yi, r in zip(y, rows, strict=True):
            colour = _verdict_colour(r)
            mid, lo, hi = 100 * r["uplift"], 100 * r["ci_low"], 100 * r["ci_high"]
            ax.errorbar(
                [mid],
                [yi],
                xerr=[[mid - lo], [hi - mid]],
                fmt="o",
                color=colour,
                ecolor=colour,
                elinewidth=2.2,
                capsize=5,
                markersize=8,
            )
            ax.annotate(
                f"{mid:+.1f} pp  ({r['rate_offered']:.1%} offered vs {r['rate_holdout']:.1%} holdout, "
                f"n={fmt(r['offered'])}/{fmt(r['holdout'])})",
                (hi, yi),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
                color="#374151",
            )
        ax.axvline(0, color="#111827", linewidth=1.2, zorder=1)
        ax.set_yticks(y, [r["campaign"] for r in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        lo_all = min([100 * r["ci_low"] for r in rows] + [0.0])
        hi_all = max([100 * r["ci_high"] for r in rows] + [0.0])
        span = max(hi_all - lo_all, 1.0)
        ax.set_xlim(lo_all - 0.08 * span, hi_all + 0.9 * span)
        ax.set_xlabel("uplift: conversion rate offered − holdout (percentage points, 95% CI)")
        ax.grid(axis="y", visible=False)
        svg = to_svg(fig, "uplift")
    wins = [r["campaign"] for r in rows if r["ci_low"] > 0]
    caption = (
        "Dots are the difference in conversion rate between offered and held-out members, bars its 95% interval "
        "(Newcombe). Green: the interval is above zero, so the campaign causes conversions; grey: can't tell yet."
    )
    if rows:
        caption = (
            f"{len(wins)} of {len(rows)} campaigns show a clear uplift. " if wins else "No clear uplift yet. "
        ) + (caption)
    return Chart("uplift", "Uplift per campaign", svg, caption)


def _verdict_colour(r: Uplift) -> str:
    if r["ci_low"] > 0:
        return POSITIVE
    if r["ci_high"] < 0:
        return NEGATIVE
    return NEUTRAL
