"""The printed report: one run's figures as a Markdown table, the round trips, and the py-spy summary.

How each cell is written (n/a, targets, ratios, the profile) is shared: bench.service_bench.table.
"""

from __future__ import annotations

from typing import Any

from bench.campaigns.config import TARGET_TRIGGERS_PER_S
from bench.report import format_ms, format_s
from bench.service_bench.table import baseline_cells, machine_line, num, pct, profile_lines, ratio, target


def render(results: dict[str, Any]) -> str:
    t, b, lat = (results.get(k) for k in ("throughput", "baseline", "latency"))
    rows = [*_throughput_rows(t, b), *_latency_rows(lat)]
    lines = [
        "## Campaigns benchmark",
        "",
        f"`{results['command']}` at {results['started_at']}",
        "",
        machine_line(results.get("machine") or {}),
    ]
    if rows:
        lines += ["", "| figure | value | target | ratio to bare loop |", "|---|---|---|---|"]
        lines += [f"| {a} | {v} | {tg} | {r} |" for a, v, tg, r in rows]
    lines += _roundtrip_lines(results.get("roundtrips") or [])
    for title, section in (("phase 1 (backlog)", t), ("phase 2 (latency)", lat)):
        lines += profile_lines(
            f"py-spy of campaigns, {title}", (section or {}).get("profile"), "campaigns", 10, ranked=True
        )
    return "\n".join(lines)


def _throughput_rows(t: dict[str, Any] | None, b: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not t:
        return []
    base = b["rate"] if b else None
    wanted = f"≥ {TARGET_TRIGGERS_PER_S:,.0f}/s"
    outcomes = ", ".join(f"{k} {v:,}" for k, v in t["outcomes"].items())
    cm = t.get("consumer_metrics") or {}
    rows = [
        (
            f"triggers decided / s, first committed batch → group lag 0 ({t['campaigns']} campaigns)",
            f"{num(t['rate_steady'])} ({t['steady_triggers']:,} triggers in {format_s(t['steady_s'])})",
            target(t["rate_steady"], TARGET_TRIGGERS_PER_S, wanted),
            ratio(t["rate_steady"], base),
        ),
        (
            "triggers decided / s, spawn → group lag 0 (start-up included)",
            f"{num(t['rate_with_startup'])} ({t['triggers']:,} triggers of {t['members']:,} members in"
            f" {format_s(t['lag_zero_after_s'])}; ready after {format_s(t['startup_s'])})",
            target(t["rate_with_startup"], TARGET_TRIGGERS_PER_S, wanted),
            ratio(t["rate_with_startup"], base),
        ),
    ]
    if b:
        rows.append(baseline_cells(b))
    rows += [
        (
            "backlog: state transitions / sales",
            f"{t['state_triggers']:,} / {t['sale_triggers']:,}",
            "—",
            "—",
        ),
        (
            "decisions recorded (SELECT count(*) FROM decisions)",
            f"{t['decisions_in_table']:,} ({outcomes}); {cm.get('outside_audience', 0):,.0f} candidates outside"
            " their audience (not decisions, counted)",
            "—",
            "—",
        ),
        (
            "nothing lost: admitted trigger occurrences with exactly one decision",
            f"{t['expected'] - t['lost']:,} / {t['expected']:,} (lost {t['lost']:,}, unexpected {t['unexpected']:,})"
            + ("" if t["tables_intact"] else "; INVALID: campaigns' tables were changed by another process"),
            "lost 0",
            "—",
        ),
        (
            "offers published (offer.issued.v1) / issued decisions",
            f"{t['offers_published']:,} / {t['offers_issued']:,}; outbox empty {format_s(t['outbox_drained_after_s'])}"
            " after spawn",
            "equal",
            "—",
        ),
        (
            "campaigns CPU per 1,000 triggers (steady); CPU share",
            f"{num(t['cpu_s_per_1000_triggers'], '.3f')} CPU-s; {pct(t['steady_process'], 'cpu_percent')}"
            f" of a core, host {pct(t['steady_process'], 'host_cpu_percent')}",
            "—",
            "—",
        ),
    ]
    if cm.get("batch_records_count"):
        rows.append(
            (
                "campaigns' batches (its /metrics at lag 0)",
                f"{cm['batch_records_count']:,.0f} batches, mean {cm.get('batch_records_mean', 0):,.0f} records,"
                f" mean {1000 * cm.get('batch_seconds_mean', 0):,.0f} ms each",
                "—",
                "—",
            )
        )
    return rows


def _latency_rows(lat: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not lat:
        return []
    return [
        (
            f"trigger published → offer on Kafka (its timestamp), p50/p95/p99/max at {lat['offered_rate']:,.0f}/s",
            " / ".join(format_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
            + f" ({lat['offers']:,}/{lat['sent']:,} offers, achieved {lat['achieved_rate']:,.0f}/s,"
            f" lost {lat['lost']:,}; campaigns CPU {pct(lat['process'], 'cpu_percent')} of a core,"
            f" host {pct(lat['process'], 'host_cpu_percent')})",
            "—",
            "—",
        ),
        (
            "trigger published → offer consumed by the bench, p50 / p99",
            f"{format_ms(lat['consumed_p50_ms'])} / {format_ms(lat['consumed_p99_ms'])}",
            "—",
            ratio(lat["consumed_p99_ms"], lat["bare_p99_ms"], "p99 ×"),
        ),
        (
            "bare Kafka hop (trigger published → trigger consumed), p50 / p95 / p99 / max",
            " / ".join(format_ms(lat[k]) for k in ("bare_p50_ms", "bare_p95_ms", "bare_p99_ms", "bare_max_ms")),
            "—",
            "1",
        ),
    ]


def _roundtrip_lines(configs: list[dict[str, Any]]) -> list[str]:
    if not configs:
        return []
    lines = [
        "",
        "Postgres round trips per batch (in-process: inbox claim + campaigns_handler + outbox append):",
        "",
        "| campaigns | stored members | batch | statements per batch (handler) | decisions per batch"
        " | statements per decision | ms per batch (awaiting Postgres) |",
        "|---:|---:|---:|---|---|---:|---|",
    ]
    for c in configs:
        batches = c["batches"]
        per_batch = ", ".join(f"{x['statements']} ({x['handler_statements']})" for x in batches)
        decided = ", ".join(f"{x['candidates_decided']:,}" for x in batches)
        ms = ", ".join(f"{x['ms']:,.0f} ({x['db_ms']:,.0f})" for x in batches)
        lines.append(
            f"| {c['campaigns']} | {c['members']:,} | {c['batch_size']:,} | {per_batch} | {decided}"
            f" | {num(c['statements_per_decision'], '.4f')} | {ms} |"
        )
    last = configs[-1]
    spent = last["by_statement_ms"]
    calls = ", ".join(f"{name} ×{n} ({spent.get(name, 0):,.0f} ms)" for name, n in last["by_statement"].items())
    return [*lines, "", f"Statements of the last configuration, by the function that issued them (ms awaited): {calls}"]
