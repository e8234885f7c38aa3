"""From facts to what the page shows: the header's numbers and the sections, each block built on its own.

A block whose facts are absent says "not measured in this run"; a block that fails to build says so
in the page instead of failing the whole report (the demo has done its work by the time it writes this).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.demo_report import tables
from tools.demo_report.charts import campaigns, churn, delivery, lifecycle, throughput, tiers
from tools.demo_report.charts.chart import Chart
from tools.demo_report.facts import Facts, Run
from tools.demo_report.model import Block, Section, Stat, missing


@dataclass(frozen=True)
class Header:
    title: str
    subtitle: str
    stats: tuple[Stat, ...]
    started_at: str


def header(run: Run | None) -> Header:
    if not run:
        return Header("MemberPulse demo", "Run facts: not measured in this run.", (), "")
    source = {"synthetic": "Generated retail chain", "cdnow": "CDNOW customer sample"}.get(
        str(run.get("data", "")), str(run.get("data", "unknown data"))
    )
    bits = [source]
    if run.get("seed") is not None:
        bits.append(f"seed {run['seed']}")
    if "months" in run:
        bits.append(f"{run['months']} months of history")
    if "history_start" in run and "history_end" in run:
        bits.append(f"{run['history_start']} → {run['history_end']}")
    stats: list[Stat] = []
    if "members" in run:
        stats.append(Stat("members", f"{run['members']:,}"))
    if "records_published" in run:
        stats.append(Stat("records published", f"{run['records_published']:,}"))
    if "elapsed_s" in run:
        stats.append(Stat("wall time", _duration(run["elapsed_s"])))
        if run.get("records_published") and run["elapsed_s"] > 0:
            stats.append(Stat("end to end", f"{run['records_published'] / run['elapsed_s']:,.0f} records/s"))
    return Header("MemberPulse demo", " · ".join(bits), tuple(stats), str(run.get("started_at", "")))


def _duration(seconds: float) -> str:
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes} min {s:02d} s" if minutes else f"{seconds:.1f} s"


def _block(title: str, value: Any, build: Callable[[Any], Chart | Block]) -> Block:
    if value is None or value == [] or value == {}:
        return missing(title)
    try:
        made = build(value)
    except Exception as exc:  # one bad section must not cost the whole report
        return Block(title, "error", note=f"could not draw this: {type(exc).__name__}: {exc}")
    return made if isinstance(made, Block) else Block(made.title, "chart", chart=made)


def sections(facts: Facts) -> tuple[Section, ...]:
    f: dict[str, Any] = dict(facts)
    tiers_data = f.get("tiers_over_time")
    samples = (f.get("throughput") or {}).get("samples")
    per_service = (f.get("throughput") or {}).get("per_service")
    return (
        Section(
            "tiers",
            "Members by tier",
            "Scoring puts every member in an engagement tier (how much they take part) and a value tier "
            "(what they are worth), and re-scores them as events arrive.",
            (
                _block(
                    "Engagement tiers over time",
                    tiers_data and tiers_data.get("engagement") and tiers_data,
                    tiers.engagement_over_time,
                ),
                _block(
                    "Value tiers over time",
                    tiers_data and tiers_data.get("value") and tiers_data,
                    tiers.value_over_time,
                ),
                _block(
                    "Did scoring recover the planted chat habits?",
                    f.get("habit_recovery"),
                    tables.habit_recovery,
                ),
            ),
        ),
        Section(
            "lifecycle",
            "Lifecycle",
            "Members move new → active → at risk → dormant → reactivated; these are the moves scoring made.",
            (
                _block("Lifecycle flows over the run", f.get("lifecycle_flows"), lifecycle.flows),
                _block("Lifecycle states over time", f.get("lifecycle_over_time"), lifecycle.states_over_time),
            ),
        ),
        Section(
            "churn",
            "Churn warnings",
            "A member is warned (moves to at risk) when a churn signal holds: overdue against their own cadence, "
            "a low P(alive), an engagement drop, leaving a community, a complaint.",
            (
                _block(
                    "Churn warnings over time, by reason", f.get("churn_warnings_over_time"), churn.warnings_over_time
                ),
                _block("Did the warnings catch the churners?", f.get("churn_recovery"), tables.churn_recovery),
            ),
        ),
        Section(
            "campaigns",
            "Campaigns",
            "Campaigns turn state changes into offers, holding some members out to measure what the offer "
            "itself changes.",
            (
                _block("Campaign decisions per offer kind", f.get("offers_by_kind"), campaigns.offers),
                _block("Suppressions by reason", f.get("suppressions"), campaigns.suppressions),
                _block("Campaign funnel", f.get("funnel"), campaigns.funnel),
                _block("Uplift per campaign", f.get("uplift"), campaigns.uplift),
            ),
        ),
        Section(
            "delivery",
            "Delivery",
            "The notifier sends each issued offer on the member's channel, through the demo's provider sinks.",
            (_block("Delivery outcomes per channel", f.get("delivery"), delivery.outcomes),),
        ),
        Section(
            "pipeline",
            "Pipeline throughput",
            "How fast the four services worked through the replayed history.",
            (
                _block("Pipeline throughput", samples, throughput.records_done),
                _block("Consumer lag over run time", samples, throughput.lag),
                _block("Per service", per_service, tables.per_service),
            ),
        ),
        Section(
            "checks",
            "Accounting checks",
            "Nothing is lost on the way: every issued offer ends somewhere and every bad record the generator "
            "planted lands in the dead-letter topic.",
            (
                _block("The books", f.get("accounting"), tables.accounting),
                _block("Dead letters by reason", f.get("dlq"), tables.dead_letters),
            ),
        ),
        Section(
            "members-now",
            "Members now",
            "Where the members stand at the end of the replayed history.",
            (
                _block("Members at the end of the run", f.get("members_now"), tables.members_now),
                _block("Members at risk now, by reason", f.get("churn_reasons_now"), tables.churn_reasons_now),
            ),
        ),
        Section(
            "model",
            "BG/NBD model",
            "Scoring fits a BG/NBD purchase model to predict P(alive) and future purchases; on CDNOW it can be "
            "compared with the published fit.",
            (_block("BG/NBD parameters", f.get("bgnbd"), tables.bgnbd),),
        ),
        Section(
            "endpoints",
            "Endpoints",
            "Where to look while the stack is still up.",
            (_block("Endpoints", f.get("endpoints"), tables.endpoints),),
        ),
    )
