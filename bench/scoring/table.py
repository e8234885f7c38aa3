"""The printed report: the merged results as a Markdown table, and the py-spy summaries.

How each cell is written (n/a, targets, ratios, the profile) is shared: bench.service_bench.table.
"""

from __future__ import annotations

from typing import Any

from bench.report import format_ms, format_s
from bench.scoring.config import TARGET_EVENTS_PER_S, TARGET_FIT_S, TARGET_P99_MS, TARGET_SWEEP_S
from bench.service_bench.table import baseline_cells, machine_line, num, pct, profile_lines, ratio, target


def render(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    t, b, lat, s, fit = (results.get(k) for k in ("throughput", "baseline", "latency", "sweep", "fit"))
    domain = results.get("domain")
    base_rate = b["rate"] if b else None
    if t:
        rows.append(
            (
                "events applied to state / s, first committed batch → group lag 0"
                + (f", {t['replicas']} scoring replicas" if t.get("replicas", 1) > 1 else ""),
                f"{num(t['rate_steady'])} ({t['steady_events']:,} events in {format_s(t['steady_s'])})",
                target(t["rate_steady"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                ratio(t["rate_steady"], base_rate),
                t["command"],
            )
        )
        rows.append(
            (
                "events applied / s, spawn → group lag 0 (start-up included)",
                f"{num(t['rate_with_startup'])} ({t['events']:,} events in {format_s(t['lag_zero_after_s'])};"
                f" ready after {format_s(t['startup_s'])})",
                target(t["rate_with_startup"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                ratio(t["rate_with_startup"], base_rate),
                t["command"],
            )
        )
        if b:
            rows.append((*baseline_cells(b), b["command"]))
        if domain:
            rows.append(
                (
                    "ceiling: scoring's pure domain in the bench's process, same events, no I/O",
                    f"{num(domain['rate'])} ({domain['us_per_event']:.0f} µs/event, batches of {domain['batch']:,};"
                    f" {domain['transitions']:,} transitions); the service runs at"
                    f" {t['rate_steady'] / domain['rate']:.2f} of it",
                    target(domain["rate"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                    ratio(domain["rate"], base_rate),
                    domain["command"],
                )
            )
        rows.append(
            (
                "nothing lost: events applied (in inbox, not deferred) / published",
                f"{t['events_in_inbox'] - t['still_deferred']:,} / {t['events']:,} (lost {t['lost']:,});"
                f" {t['members_in_state']:,}/{t['members']:,} members;"
                f" purchases {t['purchases_in_state']:,}/{t['purchase_events']:,}",
                "lost 0",
                "—",
                t["command"],
            )
        )
        rows.append(
            (
                "scoring CPU per 1,000 events (steady); CPU share",
                f"{num(t['cpu_s_per_1000_events'], '.3f')} CPU-s; {pct(t['steady_process'], 'cpu_percent')}"
                f" of a core, host {pct(t['steady_process'], 'host_cpu_percent')}"
                + (
                    f" (first of {t['replicas']} replicas; all: {num(t['all_replicas_cpu_s_per_1000_events'], '.3f')}"
                    " CPU-s per 1,000)"
                    if t.get("replicas", 1) > 1
                    else ""
                ),
                "—",
                "—",
                t["command"],
            )
        )
        rows.append(("scoring RSS ready → peak → lag 0", _rss(t["process"]), "—", "—", t["command"]))
        cm = t.get("consumer_metrics") or {}
        if cm.get("batch_records_count"):
            rows.append(
                (
                    "scoring's batches (its /metrics at lag 0)",
                    f"{cm['batch_records_count']:,.0f} batches, mean {cm.get('batch_records_mean', 0):,.0f} records,"
                    f" mean {1000 * cm.get('batch_seconds_mean', 0):,.0f} ms each;"
                    f" {cm.get('swept_members_total', 0):,.0f} members swept meanwhile",
                    "—",
                    "—",
                    t["command"],
                )
            )
        rows.append(
            (
                "state events of the backlog published (spawn → outbox empty)",
                f"{t['state_events']:,} transitions, {format_s(t['outbox_drained_after_s'])}",
                "—",
                "—",
                t["command"],
            )
        )
    if lat:
        rows.append(
            (
                f"published → state event consumed, p50 / p95 / p99 / max at {lat['offered_rate']:,.0f}/s offered",
                " / ".join(format_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
                + f" ({lat['received']:,}/{lat['sent']:,} received, achieved {lat['achieved_rate']:,.0f}/s,"
                f" lost {lat['lost']:,}; scoring CPU {pct(lat['process'], 'cpu_percent')} of a core,"
                f" host {pct(lat['process'], 'host_cpu_percent')})",
                target(lat["p99_ms"], TARGET_P99_MS, "p99 ≤ 250 ms", higher=False),
                ratio(lat["p99_ms"], lat["bare_p99_ms"], "p99 ×"),
                lat["command"],
            )
        )
        if (cm := lat.get("consumer_metrics") or {}).get("batch_records_count"):
            rows.append(
                (
                    "scoring's batches while phase 3 offered its events (its /metrics)",
                    f"{cm['batch_records_count']:,.0f} batches, mean {cm.get('batch_records_mean', 0):,.1f} records,"
                    f" mean {1000 * cm.get('batch_seconds_mean', 0):,.0f} ms each",
                    "—",
                    "—",
                    lat["command"],
                )
            )
        rows.append(
            (
                "bare Kafka hop (published → bench consumed the input), same events",
                " / ".join(format_ms(lat[k]) for k in ("bare_p50_ms", "bare_p95_ms", "bare_p99_ms", "bare_max_ms")),
                "—",
                "1",
                lat["command"],
            )
        )
    if s:
        rows.append(
            (
                f"sweep over {s['members_inserted']:,} stored members, 1% due (batch {s['batch_size']:,})",
                f"{s['seconds']:.2f} s: {s['swept']:,} of {s['due']:,} due swept, {s['members_per_s']:,.0f} members/s,"
                f" {s['transitions']:,} transitions, {s['due_after']:,} left due",
                target(s["seconds"], TARGET_SWEEP_S, "≤ 5 s", higher=False),
                "—",
                s["command"],
            )
        )
        rows.append(
            (
                "(setup) COPY of the synthetic members; ANALYZE",
                f"{s['insert_s']:.1f} s ({s['members_inserted'] / s['insert_s']:,.0f} rows/s); {s['analyze_s']:.1f} s",
                "—",
                "—",
                s["command"],
            )
        )
    if fit:
        rows.append(
            (
                f"BG/NBD fit on {fit['members']:,} members (bench.scoring_fit, {fit['started_at']})",
                f"{fit['fit_s']:.2f} s (+ {fit['compress_s']:.2f} s compress)",
                target(fit["fit_s"], TARGET_FIT_S, "≤ 30 s", higher=False),
                "—",
                str(fit["command"]),
            )
        )
    lines = [
        "## Scoring benchmark",
        "",
        machine_line(results.get("machine") or {}),
        "",
        "| figure | value | target | ratio to bare loop | command |",
        "|---|---|---|---|---|",
        *(f"| {a} | {v} | {tg} | {r} | `{c}` |" for a, v, tg, r, c in rows),
    ]
    for title, section in (("phase 1 (backlog)", t), ("phase 3 (latency)", lat)):
        lines += profile_lines(f"py-spy, {title}", (section or {}).get("profile"), "scoring", 15, ranked=False)
    return "\n".join(lines)


def _rss(window: dict[str, Any] | None) -> str:
    if not window:
        return "n/a"
    return f"{window['rss_start_mib']:.0f} → {window['rss_peak_mib']:.0f} → {window['rss_end_mib']:.0f} MiB"
