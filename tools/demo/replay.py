"""Backfill files replayed with ingest's own CLI (``python -m services.ingest replay``), as an operator would.

The CLI shows its own progress bar (bytes, rate, time left).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from tools.services import REPO_ROOT

LAYOUTS = {".csv": "csv", ".jsonl": "jsonl", ".xml": "xml"}


class ReplayFailed(RuntimeError):
    """ingest's replay CLI refused a file: nothing more is replayed."""


# The CLI merges the files oldest event first; at equal times the earlier file goes first. Till
# receipts first: they carry card and phone together, which is what links a member's web orders
# (customer id and phone) to their card.
REPLAY_ORDER = ("purchases_csv", "pos_receipt", "ecom_order", "chat_json", "wecom_archive", "wechat_oa")


def backfill_files(folder: Path) -> list[Path]:
    """The replay files in ``folder``, each named after its source format (``purchases_csv.csv``), tills first."""
    found = [p for p in folder.iterdir() if p.suffix in LAYOUTS and p.stat().st_size > 0]

    def rank(path: Path) -> tuple[int, str]:
        known = path.stem in REPLAY_ORDER
        return (REPLAY_ORDER.index(path.stem) if known else len(REPLAY_ORDER), path.name)

    return sorted(found, key=rank)


def replay_files(files: Sequence[Path], console: Console, source: str | None = None) -> int:
    """Replay the files with one run of ingest's CLI, which merges them in event-time order.

    The source is each file's stem unless given.
    """
    console.print("  file replay: " + ", ".join(f"[bold]{p.name}[/] as {source or p.stem}" for p in files))
    command = [sys.executable, "-m", "services.ingest", "replay", *map(str, files)]
    if source:
        command += ["--source", source]
    result = subprocess.run(command, cwd=REPO_ROOT, check=False)
    if result.returncode != 0:
        raise ReplayFailed(f"`{' '.join(command)}` exited with {result.returncode}")
    return len(files)
