"""The run as Markdown: the machine, then three tables (ceilings, services and pipeline, scale).

Cells read "n/a" where a figure is missing (a part skipped or failed), never an invented number.
"""

from __future__ import annotations

from typing import Any

from bench.harness.model import Run, ScalePoint, ratio, ratio_to_ceiling, relative_to_smallest
from bench.service_bench.table import machine_line


def num(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def times(value: float | None) -> str:
    """A ratio: ``0.412`` for a share of a ceiling, ``1.07×`` style is left to the caller's header."""
    return num(value, ".3f")


def members(count: int) -> str:
    """1,000,000 → 1M, 20,000 → 20k: the scale table's row labels."""
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def render(run: Run) -> str:
    lines = [f"## MemberPulse benchmark ({run.options.get('mode', '?')}), {run.started_at}", ""]
    lines += [machine_line(run.machine), ""]
    lines += [*_ceilings(run), "", *_services(run), "", *_scale(run.scale)]
    if run.seconds is not None:
        lines += ["", f"whole run {run.seconds / 60:.1f} min"]
    lines += [f"\nWARNING: {warning}" for warning in run.warnings]
    return "\n".join(lines)


def _ceilings(run: Run) -> list[str]:
    if not run.ceilings:
        return ["ceilings: not measured"]
    lines = ["| ceiling | rate | measured over |", "|---|---:|---:|"]
    for c in run.ceilings:
        seconds = "n/a" if c.seconds is None else f"{c.seconds:.2f} s"
        lines.append(f"| {c.label} | {num(c.rate)} {c.unit} | {c.count:,} in {seconds} |")
    return lines


def _services(run: Run) -> list[str]:
    if not run.services:
        return ["services: not measured"]
    lines = [
        "| service | sustained | ratio to ceiling | ratio to own bare loop | p50 / p99 at offered rate"
        " | CPU-s per 1,000 | peak RSS |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in run.services:
        latency = (
            "n/a"
            if r.p50_ms is None and r.p99_ms is None
            else f"{num(r.p50_ms)} / {num(r.p99_ms)} ms at {num(r.offered_rate)}/s"
        )
        name = r.name + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {name} | {num(r.throughput)} {r.unit} | {times(ratio_to_ceiling(run, r))} ({r.ceiling})"
            f" | {times(ratio(r.throughput, r.own_baseline_rate))} | {latency}"
            f" | {num(r.cpu_s_per_1000, '.3f')} | {'n/a' if r.peak_rss_mib is None else f'{r.peak_rss_mib:,.0f} MiB'} |"
        )
    return lines


def _scale(points: list[ScalePoint]) -> list[str]:
    if not points:
        return ["scale: not measured"]
    relative: dict[str, Any] = {
        cost: relative_to_smallest(points, cost) for cost in ("apply_us_per_event", "claim_ms", "sweep_ms_per_1000_due")
    }
    lines = [
        "| stored members | bulk load | apply µs/event | × smallest | due-member claim ms | × smallest"
        " | sweep ms per 1,000 due | × smallest |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, p in enumerate(points):
        lines.append(
            f"| {members(p.members)} | {p.load_s:.1f} s"
            f" | {num(p.apply_us_per_event)} | {times(relative['apply_us_per_event'][n])}"
            f" | {num(p.claim_ms, '.1f')} | {times(relative['claim_ms'][n])}"
            f" | {num(p.sweep_ms_per_1000_due)} | {times(relative['sweep_ms_per_1000_due'][n])} |"
        )
    return lines
