"""``bench/results/scoring.json``: this run's phases merged over the stored ones, with the code they measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.scoring.config import (
    FIT_RESULTS_PATH,
    PHASES,
    RESULTS_PATH,
    TARGET_EVENTS_PER_S,
    TARGET_FIT_S,
    TARGET_P99_MS,
    TARGET_SWEEP_S,
)
from bench.service_bench.results import code_fingerprint, lost


def merge_results(previous: dict[str, Any], sections: dict[str, Any], command: str, stamp: str) -> dict[str, Any]:
    """This run's phases replace the stored ones; each phase keeps the command and time that measured it."""
    merged = {key: value for key, value in previous.items() if key in PHASES}
    for phase in PHASES:
        if phase in sections:
            merged[phase] = {"command": command, "started_at": stamp, **sections[phase]}
    if "throughput" in sections:
        for beside in ("baseline", "domain"):  # only meaningful beside the throughput of their run
            if beside not in sections:
                merged.pop(beside, None)
    runs = dict(previous.get("runs", {}))
    runs[stamp] = {
        "command": command,
        "code": code_fingerprint("scoring"),
        "machine": sections.get("machine"),
        "warnings": sections.get("warnings", []),
        "scoring_log": sections.get("scoring_log"),
        "scoring_log_problems": sections.get("scoring_log_problems", {}),
    }
    merged["runs"] = runs
    merged["machine"] = sections.get("machine")
    merged["targets"] = {
        "sustained_events_per_s": TARGET_EVENTS_PER_S,
        "p99_ms_at_2000_per_s": TARGET_P99_MS,
        "sweep_1m_members_1pct_due_s": TARGET_SWEEP_S,
        "fit_1m_members_s": TARGET_FIT_S,
    }
    if FIT_RESULTS_PATH.exists():
        fit = json.loads(FIT_RESULTS_PATH.read_text())
        merged["fit"] = {key: fit.get(key) for key in ("command", "started_at", "members", "fit_s", "compress_s")}
    merged["lost_events"] = lost(merged)
    return merged


def write_results(results: dict[str, Any]) -> Path:
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    return RESULTS_PATH
