"""The figures one benchmark run measured: result records, the printed table and the JSON file."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.baseline import BaselineResult
from bench.rss import ProcessWindow

BASELINE_TARGET = 0.5


@dataclass(frozen=True)
class MachineFacts:
    cpu_count: int
    platform: str
    python: str
    memory_gib: float
    kafka_bootstrap: str
    kafka_cluster: str
    postgres: str
    postgres_address: str
    # Kafka and Postgres listen on loopback: they share this machine's cores with ingest and the bench.
    stack_on_this_host: bool


@dataclass(frozen=True)
class ThroughputResult:
    members: int
    events: int
    preload_rate: float  # records/s generated and produced by the bench's fast producer
    startup_s: float  # ingest spawn → /readyz answers
    outputs: int  # distinct canonical events of this run on the output topics
    duplicates: int
    dead_letters: dict[str, int]
    lost: int
    first_output_after_s: float | None  # spawn → first output (Kafka timestamp)
    output_span_s: float | None  # first → last output (Kafka timestamps)
    output_rate: float | None
    input_span_s: float | None  # spawn → the group's lag on the raw topics first seen at 0
    input_rate: float | None
    stalled: bool
    process: ProcessWindow | None


@dataclass(frozen=True)
class LatencyResult:
    offered_rate: float
    seconds: float
    sent: int
    achieved_rate: float
    received: int
    dead_letters: dict[str, int]
    lost: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    process: ProcessWindow | None


@dataclass
class Report:
    command: str
    started_at: str
    machine: MachineFacts
    throughput: ThroughputResult
    baseline: BaselineResult
    latency: LatencyResult | None
    scaling: ThroughputResult | None
    ingest_log: str
    ingest_log_problems: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        rate = self.throughput.output_rate
        return rate / self.baseline.rate if rate and self.baseline.rate else None

    @property
    def lost(self) -> int:
        return sum(r.lost for r in (self.throughput, self.latency, self.scaling) if r is not None)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["baseline"]["rate"] = self.baseline.rate
        data["ingest_over_baseline"] = self.ratio
        data["lost_events"] = self.lost
        return data


def machine_facts(kafka_bootstrap: str, kafka_cluster: str, postgres: str, postgres_address: str) -> MachineFacts:
    loopback = ("127.", "localhost", "[::1]", "::1")
    hosts = [kafka_bootstrap, postgres_address]
    return MachineFacts(
        cpu_count=os.cpu_count() or 0,
        platform=platform.platform(),
        python=platform.python_version(),
        memory_gib=_memory_gib(),
        kafka_bootstrap=kafka_bootstrap,
        kafka_cluster=kafka_cluster,
        postgres=postgres.split(" on ")[0],
        postgres_address=postgres_address,
        stack_on_this_host=all(host.startswith(loopback) for host in hosts),
    )


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return 0.0


def write_json(report: Report, directory: Path, stamp: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"ingest-{stamp}.json"
    path.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    return path


# -- the table ---------------------------------------------------------------------------------


def render(report: Report) -> str:
    m = report.machine
    same_host = "on this host (loopback)" if m.stack_on_this_host else "elsewhere"
    lines = [
        f"MemberPulse ingest benchmark, {report.started_at}",
        f"command   {report.command}",
        f"machine   {m.cpu_count} cores (os.cpu_count), {m.memory_gib:.1f} GiB RAM, {m.platform}, Python {m.python}",
        f"stack     Kafka {m.kafka_bootstrap} ({m.kafka_cluster}) and {m.postgres} at {m.postgres_address},"
        f" {same_host}",
        "",
        *_section(f"1. Sustained throughput raw → normalised ({_members(report.throughput)})", _throughput(report)),
        *_section("2. Baseline: bare aiokafka consume → produce over the same records", _baseline(report)),
    ]
    if report.latency is not None:
        lines += _section(
            f"3. End-to-end latency at {report.latency.offered_rate:,.0f} events/s offered "
            f"for {report.latency.seconds:.0f} s",
            _latency(report.latency, report.throughput.output_rate),
        )
    lines += _section(
        "4. Ingest process: RSS start → peak → end, CPU (% of one core), host CPU busy (all cores)", _memory(report)
    )
    lines += [f"ingest log: {report.ingest_log}"]
    lines += [f"  {count:>6,} × {problem}" for problem, count in list(report.ingest_log_problems.items())[:5]]
    lines += [f"WARNING: {warning}" for warning in report.warnings]
    return "\n".join(lines)


def _section(title: str, rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [title, *(f"  {label:<{width}}  {value}" for label, value in rows), ""]


def _members(result: ThroughputResult) -> str:
    return f"{result.events:,} events, {result.members:,} members"


def _throughput(report: Report) -> list[tuple[str, str]]:
    t = report.throughput
    return [
        ("pre-load (generate + produce)", f"{t.preload_rate:,.0f} records/s"),
        ("ingest start-up (spawn → ready)", f"{t.startup_s:.1f} s"),
        ("spawn → first output", format_s(t.first_output_after_s)),
        ("outputs / dead letters / lost", f"{t.outputs:,} / {_dead(t.dead_letters)} / {t.lost:,}"),
        ("duplicate outputs", f"{t.duplicates:,}"),
        ("output rate (first → last output)", f"{_rate(t.output_rate)} over {format_s(t.output_span_s)}"),
        ("input rate (spawn → group lag 0)", f"{_rate(t.input_rate)} over {format_s(t.input_span_s)}"),
        *([("stalled", "yes: waited for progress that never came")] if t.stalled else []),
    ]


def _baseline(report: Report) -> list[tuple[str, str]]:
    b = report.baseline
    ratio = report.ratio
    verdict = (
        "" if ratio is None else ("  (target ≥ 0.5: met)" if ratio >= BASELINE_TARGET else "  (target ≥ 0.5: MISSED)")
    )
    return [
        ("bare loop rate", f"{_rate(b.rate)} ({b.records:,} records in {b.seconds:.1f} s)"),
        ("ingest / baseline", ("n/a" if ratio is None else f"{ratio:.3f}") + verdict),
    ]


def _latency(result: LatencyResult, sustained: float | None) -> list[tuple[str, str]]:
    overload = sustained is not None and result.offered_rate > sustained
    note = [("note", "offered > sustained rate of phase 1: these are queueing delays")] if overload else []
    return [
        ("offered (achieved)", f"{result.offered_rate:,.0f} events/s ({result.achieved_rate:,.0f})"),
        (
            "sent / received / dead / lost",
            f"{result.sent:,} / {result.received:,} / {_dead(result.dead_letters)} / {result.lost:,}",
        ),
        (
            "p50 / p95 / p99 / max",
            " / ".join(format_ms(v) for v in (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms)),
        ),
        *note,
    ]


def _memory(report: Report) -> list[tuple[str, str]]:
    rows = [(f"phase 1 ({report.throughput.members:,} members)", _window(report.throughput.process))]
    if report.latency is not None:
        rows.append(("phase 3 (latency)", _window(report.latency.process)))
    if report.scaling is not None:
        s = report.scaling
        rows.append((f"phase 1 again ({s.members:,} members)", _window(s.process)))
        rows.append(("  its output rate, lost", f"{_rate(s.output_rate)}, {s.lost:,}"))
    return rows


def _window(window: ProcessWindow | None) -> str:
    if window is None:
        return "n/a (too short to sample)"
    return (
        f"{window.rss_start_mib:.0f} → {window.rss_peak_mib:.0f} → {window.rss_end_mib:.0f} MiB, "
        f"CPU {window.cpu_percent:.0f}%, host CPU busy {window.host_cpu_percent:.0f}% ({window.samples} samples)"
    )


def _dead(codes: dict[str, int]) -> str:
    total = sum(codes.values())
    return f"{total:,}" + (f" {dict(codes)}" if total else "")


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:,.0f} events/s"


# Public: the service benches' tables (bench.service_bench.table) format their cells with these too.
def format_s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.1f} s"


def format_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"
