"""Members per engagement and value tier at each month end."""

from __future__ import annotations

from tools.demo_report.charts.chart import Chart, share
from tools.demo_report.charts.palette import ENGAGEMENT, ENGAGEMENT_ORDER, VALUE, VALUE_ORDER
from tools.demo_report.charts.stacked import stacked_area
from tools.demo_report.facts import TiersOverTime


def engagement_over_time(data: TiersOverTime) -> Chart:
    months, series = data["months"], data["engagement"]
    return Chart(
        "engagement-tiers",
        "Engagement tiers over time",
        stacked_area("engagement-tiers", months, series, ENGAGEMENT_ORDER, ENGAGEMENT),
        _caption(months, series, "active", "active")
        + " The dark band on top is the active tier: it should thicken as members take part in the communities.",
    )


def value_over_time(data: TiersOverTime) -> Chart:
    months, series = data["months"], data["value"]
    return Chart(
        "value-tiers",
        "Value tiers over time",
        stacked_area("value-tiers", months, series, VALUE_ORDER, VALUE),
        _caption(months, series, "vip", "VIP")
        + " Value tiers rank members by predicted customer lifetime value; VIP is the top band.",
    )


def _caption(months: list[str], series: dict[str, list[int]], tier: str, name: str) -> str:
    if not months or tier not in series or not series[tier]:
        return f"Members per tier at each month end ({len(months)} months)."
    first, last = series[tier][0], series[tier][-1]
    total_first = sum(v[0] for v in series.values() if v)
    total_last = sum(v[-1] for v in series.values() if v)
    return (
        f"{name[:1].upper()}{name[1:]} members: {first:,} in {months[0]} ({share(first, total_first)} of members) → "
        f"{last:,} in {months[-1]} ({share(last, total_last)})."
    )
