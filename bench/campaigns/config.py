"""The campaigns benchmark's constants: phases, group, ports, time limits, paths, regions and the target."""

from __future__ import annotations

from pathlib import Path

PHASES = ("throughput", "latency", "roundtrips")
GROUP = "campaigns"
PORT_OFFSET = 2400  # campaigns' HTTP port + 2400, away from the defaults and the integration tests' + 2300
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own campaigns process
READY_TIMEOUT_S = 90.0
POLL_S = 0.25
QUIET_S = 10.0  # phase 2: no new offer for this long after the last trigger: the run is over
STALL_S = 120.0  # no progress at all for this long: give up and count what is missing as lost
DRAIN_LIMIT_S = 600.0  # phase 1 gives up after this long in any case
IDLE_TIMEOUT_S = 180.0
HISTORY_DAYS = 60  # the backlog's triggers are spread over the last 60 days of event time
SEED = 11
OUT_DIR = Path(__file__).resolve().parents[2] / "out" / "bench"
# campaigns' tables, as its integration tests reset them (sequences are kept).
TABLES = (
    "campaigns",
    "campaign_versions",
    "members",
    "consents",
    "stores",
    "products",
    "decisions",
    "budget_days",
    "budget_totals",
    "basket_days",
    "category_days",
    "pair_days",
    "sku_days",
    "community_mentions",
    "community_fires",
    "partition_clock",
    "inbox",
    "outbox",
)
REGIONS = ("east", "south", "north", "west")
# Only phase 2's fresh members live here, and only the latency campaign targets it.
LATENCY_REGION = "bench-latency"
LATENCY_CAMPAIGN = "bench_latency_welcome"
# The target: reported against, never asserted.
TARGET_TRIGGERS_PER_S = 10_000.0
