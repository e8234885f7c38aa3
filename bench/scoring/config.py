"""The scoring benchmark's constants: phases, groups, time limits, paths and the issue's targets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.service_bench.stack import ServiceSpec

PHASES = ("throughput", "baseline", "domain", "latency", "sweep")
GROUP = "scoring"
DOWNSTREAM_GROUP = "campaigns"
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own scoring process
HISTORY_DAYS = 365
HISTORY_SEED = 7
EVENTS_PER_MEMBER = 40.0  # what member_history averages over a year (40.5 at seed 7)
# W of the sweep: far before anything the stack's tests and demos store, so only this run's rows are due.
SWEEP_UNTIL = datetime(2021, 6, 1, tzinfo=UTC)
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
RESULTS_PATH = RESULTS_DIR / "scoring.json"
FIT_RESULTS_PATH = RESULTS_DIR / "scoring_fit.json"
# Time limits not named here are ServiceSpec's: phase 3 is over once no new state event came for 10 s.
SPEC = ServiceSpec(
    "scoring",
    GROUP,
    RESULTS_DIR,
    port_offset=3100,
    drain_limit_s=420.0,  # phase 1 gives up after this long in any case (keeps a run inside a 10-minute lock)
)
# The targets: reported against, never asserted.
TARGET_EVENTS_PER_S = 20_000.0
TARGET_P99_MS = 250.0
TARGET_SWEEP_S = 5.0
TARGET_FIT_S = 30.0
