"""The scoring benchmark's constants: phases, groups, time limits, paths and the issue's targets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

PHASES = ("throughput", "baseline", "latency", "sweep")
GROUP = "scoring"
DOWNSTREAM_GROUP = "campaigns"
PORT_OFFSET = 3100
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own scoring process
READY_TIMEOUT_S = 90.0
POLL_S = 0.25
QUIET_S = 10.0  # phase 3: no new state event for this long: the run is over
STALL_S = 120.0  # no progress at all for this long: give up and count what is missing as lost
DRAIN_LIMIT_S = 420.0  # phase 1 gives up after this long in any case (keeps a run inside a 10-minute lock)
IDLE_TIMEOUT_S = 180.0
HISTORY_DAYS = 365
HISTORY_SEED = 7
EVENTS_PER_MEMBER = 40.0  # what member_history averages over a year (40.5 at seed 7)
# W of the sweep: far before anything the stack's tests and demos store, so only this run's rows are due.
SWEEP_UNTIL = datetime(2021, 6, 1, tzinfo=UTC)
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
RESULTS_PATH = RESULTS_DIR / "scoring.json"
FIT_RESULTS_PATH = RESULTS_DIR / "scoring_fit.json"
# The targets: reported against, never asserted.
TARGET_EVENTS_PER_S = 20_000.0
TARGET_P99_MS = 250.0
TARGET_SWEEP_S = 5.0
TARGET_FIT_S = 30.0
