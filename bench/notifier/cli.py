"""The command line of ``python -m bench.notifier_throughput`` (the method is described there)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ingest_throughput import progress
from bench.notifier.config import OUT_DIR, PHASES, TARGET_RATE_ACCURACY, TARGET_SENDS_PER_S
from bench.notifier.phases import Bench, ratelimit, throughput
from bench.notifier.sink import running_sink, sink_ceiling
from bench.report import format_ms, format_s
from bench.service_bench import cli
from bench.service_bench.profiler import profilers
from bench.service_bench.results import code_fingerprint
from bench.service_bench.runner import log_sections, machine
from bench.service_bench.stack import empty_service_tables, preflight
from bench.service_bench.table import machine_line, num, pct, profile_lines, target
from services.notifier.entrypoints.topology import CONSUMES
from shared.settings import Settings
from tools.kafka_probe import KafkaProbe


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.notifier_throughput", description=__doc__)
    parser.add_argument("--members", type=int, default=20_000, help="contacts and offers of phase 1's backlog (20,000)")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="notifier processes in one group in phases 1 and 2 (1); CPU is their sum",
    )
    parser.add_argument("--limit-rate", type=float, default=1_000.0, help="sms sends/s allowed in phase 2 (1,000)")
    parser.add_argument("--limit-burst", type=float, default=None, help="the bucket's burst in phase 2 (rate / 10)")
    parser.add_argument("--limit-offers", type=int, default=10_000, help="offers of phase 2's backlog (10,000)")
    parser.add_argument("--latency-rate", type=float, default=200.0, help="offers/s published in phase 3 (200)")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="how long phase 3 publishes them (20)")
    parser.add_argument("--ceiling-calls", type=int, default=20_000, help="calls of the bare HTTP loop (20,000)")
    parser.add_argument("--skip", nargs="+", default=[], choices=PHASES, metavar="PHASE", help=f"of {PHASES}")
    parser.add_argument("--keep", action="store_true", help="leave notifier's tables as the last phase left them")
    parser.add_argument("--profile", action="store_true", help="py-spy record notifier in phases 1 and 3")
    args = parser.parse_args(argv)
    positive = (args.members, args.limit_rate, args.limit_offers, args.latency_rate, args.latency_seconds)
    if min(positive) <= 0 or args.ceiling_calls <= 0 or (args.limit_burst is not None and args.limit_burst < 1):
        parser.error("counts, rates and durations must be positive, and --limit-burst at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main("notifier", "bench.notifier_throughput", argv, parse_args, run, report)


async def run(args: argparse.Namespace, command: str, stamp: str) -> dict[str, Any]:
    settings = Settings()
    sections: dict[str, Any] = {"command": command, "started_at": stamp}
    async with KafkaProbe(settings.kafka.bootstrap_servers) as probe:
        with running_sink() as sink:
            bench = Bench(
                settings=settings,
                probe=probe,
                inputs=await probe.partitions([spec.name for spec in CONSUMES]),
                args=args,
                stamp=stamp,
                sink=sink,
            )
            sections["machine"] = await machine(bench)
            await preflight(bench)
            progress(f"provider sink at {sink.url}")
            profiler, latency_profiler = profilers(bench)
            try:
                if bench.runs("throughput"):
                    sections.update(await throughput(bench, profiler, latency_profiler))
                if bench.runs("ratelimit"):
                    sections["ratelimit"] = await ratelimit(bench)
                    r = sections["ratelimit"]
                    progress(f"phase 2: {r['achieved_rate'] or 0:,.1f} sends/s for a limit of {r['rate_limit']:,.0f}/s")
                if bench.runs("ceiling"):
                    progress(f"phase 4: bare HTTP/1.1 loop, {args.ceiling_calls:,} calls over 100 connections…")
                    client_rate, sink_rate = await sink_ceiling(sink.url, args.ceiling_calls, 100)
                    sections["ceiling"] = {
                        "calls": args.ceiling_calls,
                        "concurrency": 100,
                        "client_rate": client_rate,
                        "sink_rate": sink_rate,
                    }
            finally:
                if not args.keep:
                    progress("emptying notifier's tables again…")
                    await empty_service_tables(bench.dsn, "notifier")
            sections["warnings"] = bench.warnings
            sections.update(log_sections(bench))
    return sections


def report(results: dict[str, Any], command: str, stamp: str) -> int:
    print(render(results))
    code = cli.conclude("notifier", results, lambda: write_results(results, stamp), "FAILED: {} sends lost or doubled")
    if code == 0 and (results.get("ratelimit") or {}).get("lost"):
        print(f"FAILED: {results['ratelimit']['lost']} sends lost or doubled in phase 2", file=sys.stderr)
        return 1
    return code


def write_results(results: dict[str, Any], stamp: str) -> Path:
    path = OUT_DIR / f"notifier-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = {"sends_per_s": TARGET_SENDS_PER_S, "rate_accuracy": TARGET_RATE_ACCURACY}
    document = {**results, "code": code_fingerprint("notifier"), "targets": targets}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def render(results: dict[str, Any]) -> str:
    t, lat, r, c = (results.get(k) for k in ("throughput", "latency", "ratelimit", "ceiling"))
    rows: list[tuple[str, str, str]] = []
    if t:
        w = t.get("process")
        rows += [
            (
                f"sends/s at the sink, first → last delivery ({t['offers']:,} offers backlog, limit"
                f" {t['rate_limit']:,.0f}/s, {t.get('replicas', 1)} notifier process(es))",
                f"{num(t['sends_per_s'])} ({t['deliveries']:,} in {format_s(t['first_to_last_s'])})",
                target(t["sends_per_s"], TARGET_SENDS_PER_S, f"≥ {TARGET_SENDS_PER_S:,.0f}/s"),
            ),
            (
                "spawn → all sent (start-up included)",
                f"{format_s(t['spawn_to_all_sent_s'])} ({num(t['sends_per_s_from_spawn'])}/s; ready after"
                f" {format_s(t['startup_s'])}, first send after {format_s(t['spawn_to_first_send_s'])})",
                "—",
            ),
            (
                "nothing lost or doubled: deliveries / distinct keys / offers; ledger",
                f"{t['deliveries']:,} / {t['distinct_keys']:,} / {t['offers']:,}; duplicate calls"
                f" {t['duplicate_calls']}; ledger {_statuses(t['ledger'])}",
                "lost 0" + (" (met)" if not t["lost"] else " (MISSED)"),
            ),
            (
                "notifier CPU per 1,000 sends (first → last delivery); CPU share",
                f"{num(t['cpu_s_per_1000_sends'], '.3f')} CPU-s; {pct(w, 'cpu_percent')} of a core,"
                f" host {pct(w, 'host_cpu_percent')}",
                "—",
            ),
        ]
    if c:
        ratio = f"; notifier at {t['sends_per_s'] / c['sink_rate']:.2f} of it" if t and t["sends_per_s"] else ""
        rows.append(
            (
                f"sink ceiling: bare asyncio HTTP/1.1 loop, {c['concurrency']} connections,"
                f" {c['calls']:,} calls (sink-side rate)",
                f"{num(c['sink_rate'])}/s (client-side {num(c['client_rate'])}/s){ratio}",
                "—",
            )
        )
    if r:
        queued_ratio = r.get("ratio_to_limit_once_queued")
        accuracy = abs(queued_ratio - 1) if queued_ratio else None
        rows += [
            (
                f"rate limit {r['rate_limit']:,.0f}/s (burst {r['burst']:,.0f}, {r.get('replicas', 1)} process(es)):"
                " achieved once every offer was queued (intake done)",
                f"{num(r.get('achieved_rate_once_queued'), ',.1f')}/s = {num(queued_ratio, '.4f')} × limit"
                f" ({r.get('sends_once_queued', 0):,} sends, from {format_s(r.get('intake_done_after_s'))}"
                " after the first)",
                target(accuracy, TARGET_RATE_ACCURACY, "within 1%", higher=False),
            ),
            (
                "the same from the first second, intake still taking in the backlog",
                f"{num(r['achieved_rate'], ',.1f')}/s = {num(r['ratio_to_limit'], '.4f')} × limit"
                f" ({r['sends_after_first_second']:,} sends; busiest 1 s window {r['busiest_second']:,})",
                "—",
            ),
            (
                "worst excess over any stretch: sends − rate × length (token bucket: ≤ burst)",
                f"{r['worst_excess']:,.1f} over {format_s(r['worst_excess_stretch_s'])}",
                target(r["worst_excess"], r["burst"], f"≤ {r['burst']:,.0f}", higher=False),
            ),
            (
                "phase 2 nothing lost or doubled",
                f"{r['deliveries']:,} / {r['distinct_keys']:,} / {r['offers']:,}; ledger {_statuses(r['ledger'])}",
                "lost 0" + (" (met)" if not r["lost"] else " (MISSED)"),
            ),
        ]
    if lat:
        rows.append(
            (
                f"offer published → provider called (sink arrival), p50/p95/p99/max at {lat['offered_rate']:,.0f}/s",
                " / ".join(format_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
                + f" ({lat['deliveries']:,}/{lat['offers']:,} delivered, achieved {lat['achieved_rate']:,.0f}/s,"
                f" lost or doubled {lat['lost']}; notifier CPU {pct(lat['process'], 'cpu_percent')} of a core)",
                "report p99",
            )
        )
    lines = ["## Notifier benchmark", "", f"`{results['command']}` at {results['started_at']}", ""]
    lines += [machine_line(results.get("machine") or {}), "", "| figure | value | target |", "|---|---|---|"]
    lines += [f"| {a} | {v} | {tg} |" for a, v, tg in rows]
    for title, section in (("phase 1 (backlog)", t), ("phase 3 (latency)", lat)):
        lines += profile_lines(
            f"py-spy of notifier, {title}", (section or {}).get("profile"), "notifier", 12, ranked=True
        )
    return "\n".join(lines)


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())) or "empty"
