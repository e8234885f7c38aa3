"""``out/bench/campaigns-<stamp>.json``: one run's figures, with the code and machine they are of."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.campaigns.config import OUT_DIR, TARGET_TRIGGERS_PER_S


def code_fingerprint() -> dict[str, str]:
    """Which code the figures are of: a hash of campaigns' and the shared sources, and their newest change."""
    root = Path(__file__).resolve().parents[2]
    patterns = ("services/campaigns/**/*.py", "services/campaigns/**/*.sql", "shared/**/*.py")
    files = sorted(path for pattern in patterns for path in root.glob(pattern))
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    newest = max((path.stat().st_mtime for path in files), default=0.0)
    return {"sources_sha256": digest.hexdigest()[:16], "newest_change": datetime.fromtimestamp(newest, UTC).isoformat()}


def lost(results: dict[str, Any]) -> int:
    return sum(int((results.get(phase) or {}).get("lost", 0)) for phase in ("throughput", "latency"))


def write_results(results: dict[str, Any], stamp: str) -> Path:
    path = OUT_DIR / f"campaigns-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**results, "code": code_fingerprint(), "targets": {"triggers_per_s": TARGET_TRIGGERS_PER_S}}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
