"""``out/bench/campaigns-<stamp>.json``: one run's figures, with the code and machine they are of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.campaigns.config import OUT_DIR, TARGET_TRIGGERS_PER_S
from bench.service_bench.results import code_fingerprint


def write_results(results: dict[str, Any], stamp: str) -> Path:
    path = OUT_DIR / f"campaigns-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**results, "code": code_fingerprint("campaigns"), "targets": {"triggers_per_s": TARGET_TRIGGERS_PER_S}}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
