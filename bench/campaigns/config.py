"""The campaigns benchmark's constants: phases, group, ports, time limits, paths, regions and the target."""

from __future__ import annotations

from pathlib import Path

from bench.service_bench.stack import ServiceSpec

PHASES = ("throughput", "latency", "roundtrips")
GROUP = "campaigns"
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own campaigns process
HISTORY_DAYS = 60  # the backlog's triggers are spread over the last 60 days of event time
SEED = 11
OUT_DIR = Path(__file__).resolve().parents[2] / "out" / "bench"
# Time limits not named here are ServiceSpec's: phase 2 is over once no new offer came for 10 s after the last trigger.
SPEC = ServiceSpec(
    "campaigns",
    GROUP,
    OUT_DIR,
    port_offset=2400,  # campaigns' HTTP port + 2400, away from the defaults and the integration tests' + 2300
    drain_limit_s=600.0,  # phase 1 gives up after this long in any case
)
REGIONS = ("east", "south", "north", "west")
# Only phase 2's fresh members live here, and only the latency campaign targets it.
LATENCY_REGION = "bench-latency"
LATENCY_CAMPAIGN = "bench_latency_welcome"
# The target: reported against, never asserted.
TARGET_TRIGGERS_PER_S = 10_000.0
