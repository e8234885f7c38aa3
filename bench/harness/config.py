"""The sizes of one harness run: ``--quick`` for development and smoke tests, the default for the figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
LATEST_JSON = RESULTS_DIR / "latest.json"
LATEST_MD = RESULTS_DIR / "latest.md"
PARTS = ("ceilings", "ingest", "scoring", "campaigns", "notifier", "pipeline", "scale")


@dataclass(frozen=True)
class Sizes:
    kafka_records: int  # records each bare Kafka loop reads
    postgres_rows: int  # rows each asyncpg COPY / executemany ceiling writes
    # Arguments of the existing benches, as their own command lines take them.
    ingest_args: tuple[str, ...]
    scoring_args: tuple[str, ...]
    campaigns_args: tuple[str, ...]
    notifier_args: tuple[str, ...]
    pipeline_args: tuple[str, ...]
    member_counts: tuple[int, ...]  # stored members of the scale phase, smallest first
    due_members: int  # due at each scale step: a fixed number, whatever the member count
    apply_batches: int  # batches of events applied at each scale step
    apply_batch_size: int  # the services' batch (KafkaSettings.max_batch_records)


QUICK = Sizes(
    kafka_records=30_000,
    postgres_rows=20_000,
    ingest_args=("--events", "4000", "--members", "1000", "--latency-rate", "500", "--latency-seconds", "4"),
    scoring_args=("--events", "4000", "--latency-rate", "500", "--latency-seconds", "4", "--skip", "sweep"),
    campaigns_args=(
        *("--members", "1000", "--events", "4000", "--latency-rate", "500", "--latency-seconds", "4"),
        *("--skip", "roundtrips"),
    ),
    notifier_args=(
        *("--members", "2000", "--latency-rate", "100", "--latency-seconds", "4", "--ceiling-calls", "2000"),
        *("--skip", "ratelimit"),
    ),
    pipeline_args=("--members", "300", "--months", "2"),
    member_counts=(10_000, 1_000_000),
    due_members=1_000,
    apply_batches=4,
    apply_batch_size=500,
)

# The benches' own defaults where they have them (2,000/s offered to ingest, scoring and campaigns,
# 200/s to notifier, as documented in docs/development.md and docs/notifier.md). Campaigns' round
# trips and notifier's rate-limit accuracy are left to their own benches: neither is a rate.
FULL = Sizes(
    kafka_records=100_000,
    postgres_rows=50_000,
    ingest_args=(),
    scoring_args=("--skip", "sweep"),  # the harness's scale phase sweeps 1M and 10M members instead
    campaigns_args=("--skip", "roundtrips"),
    notifier_args=("--skip", "ratelimit"),
    pipeline_args=("--members", "20000", "--months", "12"),
    member_counts=(20_000, 1_000_000, 10_000_000),
    due_members=2_000,
    apply_batches=10,
    apply_batch_size=500,
)
