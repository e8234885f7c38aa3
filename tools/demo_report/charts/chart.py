"""What every chart function returns: an inline SVG with its title and a caption saying what to notice."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    key: str  # unique on the page; prefixes the SVG's ids
    title: str
    svg: str
    caption: str


def share(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole`` (a dash when there is no whole)."""
    return f"{part / whole:.0%}" if whole else "–"
