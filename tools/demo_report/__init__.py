"""The demo's self-contained HTML report: charts as inline SVG, no network needed to open it.

``write_report(facts, Path("out/report.html"))`` writes it; ``render_report(facts)`` returns it.
``facts`` follows ``tools.demo_report.facts.Facts``; every section is optional.
"""

from __future__ import annotations

from pathlib import Path

from tools.demo_report.facts import Facts
from tools.demo_report.page import render


def render_report(facts: Facts) -> str:
    """The report for ``facts`` as one HTML document (identical for identical facts)."""
    return render(facts)


def write_report(facts: Facts, path: Path) -> Path:
    """Write the report for ``facts`` to ``path`` (its directory is created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(facts), encoding="utf-8")
    return path


__all__ = ["Facts", "render_report", "write_report"]
