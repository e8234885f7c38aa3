"""What a bench records beside its figures: which code they are of, and whether anything was lost."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def code_fingerprint(service: str) -> dict[str, str]:
    """A hash of the service's and the shared plumbing's sources, and their newest change."""
    root = Path(__file__).resolve().parents[2]
    patterns = (f"services/{service}/**/*.py", f"services/{service}/**/*.sql", "shared/**/*.py")
    files = sorted(path for pattern in patterns for path in root.glob(pattern))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    newest = max((path.stat().st_mtime for path in files), default=0.0)
    return {"sources_sha256": digest.hexdigest()[:16], "newest_change": datetime.fromtimestamp(newest, UTC).isoformat()}


def lost(results: dict[str, Any]) -> int:
    """What the backlog and latency phases lost: each bench fails its run on it."""
    return sum(int((results.get(phase) or {}).get("lost", 0)) for phase in ("throughput", "latency"))
