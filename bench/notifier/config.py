"""The notifier benchmark's constants: phases, group, ports, time limits, rate limits and the issue's targets."""

from __future__ import annotations

from pathlib import Path

from bench.service_bench.stack import ServiceSpec

PHASES = ("throughput", "latency", "ratelimit", "ceiling")
TOKEN = "bench"  # noqa: S105 - the management API token of the bench's own notifier process
OUT_DIR = Path(__file__).resolve().parents[2] / "out" / "bench"
SPEC = ServiceSpec(
    "notifier",
    "notifier",
    OUT_DIR,
    port_offset=2500,  # notifier's HTTP port + 2500, away from the defaults and the integration tests' + 2400
    drain_limit_s=600.0,
    stall_s=60.0,
)
# Phases 1 and 3: a limit far above what one process can send, so the limit is not what is measured.
UNLIMITED_RATE = 100_000.0
# The targets: reported against, never asserted.
TARGET_SENDS_PER_S = 2_000.0
TARGET_RATE_ACCURACY = 0.01
