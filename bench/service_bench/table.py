"""The cells of the benches' Markdown tables: "n/a" where a figure is missing, and the py-spy summary.

Scoring's and campaigns' tables differ in their rows, not in how a rate, a share or a target is
written; seconds and milliseconds are written as ingest's report writes them (``bench.report``).
"""

from __future__ import annotations

from typing import Any

from bench.report import format_s


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m.get('cpu_count')} cores, {m.get('memory_gib', 0):.1f} GiB RAM, {m.get('platform')},"
        f" Python {m.get('python')}; Kafka {m.get('kafka_bootstrap')} ({m.get('kafka_cluster')}),"
        f" {m.get('postgres')} at {m.get('postgres_address')}"
        + (", on this host" if m.get("stack_on_this_host") else "")
    )


def baseline_cells(b: dict[str, Any]) -> tuple[str, str, str, str]:
    """The bare loop's row: figure, value, target, ratio (it is the 1 the others are ratios to)."""
    value = f"{num(b['rate'])} ({b['records']:,} records in {format_s(b['seconds'])})"
    return "bare aiokafka consume loop (commit per batch), same records", value, "—", "1"


def num(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def pct(window: dict[str, Any] | None, key: str) -> str:
    return "n/a" if not window else f"{window[key]:.0f}%"


def ratio(value: float | None, base: float | None, prefix: str = "") -> str:
    return "n/a" if value is None or not base else f"{prefix}{value / base:.3f}"


def target(value: float | None, goal: float, text: str, *, higher: bool = True) -> str:
    if value is None:
        return f"{text} (n/a)"
    met = value >= goal if higher else value <= goal
    return f"{text} ({'met' if met else 'MISSED'})"


def profile_lines(heading: str, profile: dict[str, Any] | None, service: str, top: int, *, ranked: bool) -> list[str]:
    """The ``top`` functions by self and by inclusive share of busy samples, side by side (``ranked`` says "top N")."""
    if not profile or not profile.get("samples"):
        return []
    rank = f"top {top} " if ranked else ""
    lines = ["", f"{heading}: {profile['samples']:,} samples, idle {share(profile['idle_share'])}", ""]
    lines += [f"| {rank}self (share of busy samples) | | {rank}inclusive | |", "|---|---:|---|---:|"]
    own = list(profile["self_share_of_busy"].items())[:top]
    inclusive = [(k, v) for k, v in profile["inclusive_share_of_busy"].items() if not root_frame(k, service)][:top]
    for n in range(max(len(own), len(inclusive))):
        left = own[n] if n < len(own) else ("", None)
        right = inclusive[n] if n < len(inclusive) else ("", None)
        lines.append(f"| {left[0]} | {share(left[1])} | {right[0]} | {share(right[1])} |")
    return lines


def root_frame(name: str, service: str) -> bool:
    """Frames every sample passes through (the CLI, asyncio's loop, the service runner): not informative."""
    markers = ("typer/", "runpy", "asyncio/", f"{service}/__main__.py", "entrypoints/cli.py", "shared/runtime.py")
    return any(marker in name for marker in markers)
