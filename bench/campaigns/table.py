"""The printed report: one run's figures as a Markdown table, the round trips, and the py-spy summary."""

from __future__ import annotations

from typing import Any

from bench.campaigns.config import TARGET_TRIGGERS_PER_S


def render(results: dict[str, Any]) -> str:
    t, b, lat = (results.get(k) for k in ("throughput", "baseline", "latency"))
    rows = [*_throughput_rows(t, b), *_latency_rows(lat)]
    m = results.get("machine") or {}
    lines = [
        "## Campaigns benchmark",
        "",
        f"`{results['command']}` at {results['started_at']}",
        "",
        f"{m.get('cpu_count')} cores, {m.get('memory_gib', 0):.1f} GiB RAM, {m.get('platform')},"
        f" Python {m.get('python')}; Kafka {m.get('kafka_bootstrap')} ({m.get('kafka_cluster')}),"
        f" {m.get('postgres')} at {m.get('postgres_address')}"
        + (", on this host" if m.get("stack_on_this_host") else ""),
    ]
    if rows:
        lines += ["", "| figure | value | target | ratio to bare loop |", "|---|---|---|---|"]
        lines += [f"| {a} | {v} | {tg} | {r} |" for a, v, tg, r in rows]
    lines += _roundtrip_lines(results.get("roundtrips") or [])
    lines += _profile_lines("phase 1 (backlog)", (t or {}).get("profile"))
    lines += _profile_lines("phase 2 (latency)", (lat or {}).get("profile"))
    return "\n".join(lines)


def _throughput_rows(t: dict[str, Any] | None, b: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    if not t:
        return []
    base = b["rate"] if b else None
    target = f"≥ {TARGET_TRIGGERS_PER_S:,.0f}/s"
    outcomes = ", ".join(f"{k} {v:,}" for k, v in t["outcomes"].items())
    cm = t.get("consumer_metrics") or {}
    rows = [
        (
            f"triggers decided / s, first committed batch → group lag 0 ({t['campaigns']} campaigns)",
            f"{_num(t['rate_steady'])} ({t['steady_triggers']:,} triggers in {_s(t['steady_s'])})",
            _target(t["rate_steady"], TARGET_TRIGGERS_PER_S, target),
            _ratio(t["rate_steady"], base),
        ),
        (
            "triggers decided / s, spawn → group lag 0 (start-up included)",
            f"{_num(t['rate_with_startup'])} ({t['triggers']:,} triggers of {t['members']:,} members in"
            f" {_s(t['lag_zero_after_s'])}; ready after {_s(t['startup_s'])})",
            _target(t["rate_with_startup"], TARGET_TRIGGERS_PER_S, target),
            _ratio(t["rate_with_startup"], base),
        ),
    ]
    if b:
        rows.append(
            (
                "bare aiokafka consume loop (commit per batch), same records",
                f"{_num(b['rate'])} ({b['records']:,} records in {_s(b['seconds'])})",
                "—",
                "1",
            )
        )
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
            f"{t['offers_published']:,} / {t['offers_issued']:,}; outbox empty {_s(t['outbox_drained_after_s'])}"
            " after spawn",
            "equal",
            "—",
        ),
        (
            "campaigns CPU per 1,000 triggers (steady); CPU share",
            f"{_num(t['cpu_s_per_1000_triggers'], '.3f')} CPU-s; {_pct(t['steady_process'], 'cpu_percent')}"
            f" of a core, host {_pct(t['steady_process'], 'host_cpu_percent')}",
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
            " / ".join(_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
            + f" ({lat['offers']:,}/{lat['sent']:,} offers, achieved {lat['achieved_rate']:,.0f}/s,"
            f" lost {lat['lost']:,}; campaigns CPU {_pct(lat['process'], 'cpu_percent')} of a core,"
            f" host {_pct(lat['process'], 'host_cpu_percent')})",
            "—",
            "—",
        ),
        (
            "trigger published → offer consumed by the bench, p50 / p99",
            f"{_ms(lat['consumed_p50_ms'])} / {_ms(lat['consumed_p99_ms'])}",
            "—",
            _ratio(lat["consumed_p99_ms"], lat["bare_p99_ms"], "p99 ×"),
        ),
        (
            "bare Kafka hop (trigger published → trigger consumed), p50 / p95 / p99 / max",
            " / ".join(_ms(lat[k]) for k in ("bare_p50_ms", "bare_p95_ms", "bare_p99_ms", "bare_max_ms")),
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
            f" | {_num(c['statements_per_decision'], '.4f')} | {ms} |"
        )
    last = configs[-1]
    spent = last["by_statement_ms"]
    calls = ", ".join(f"{name} ×{n} ({spent.get(name, 0):,.0f} ms)" for name, n in last["by_statement"].items())
    return [*lines, "", f"Statements of the last configuration, by the function that issued them (ms awaited): {calls}"]


def _profile_lines(title: str, profile: dict[str, Any] | None) -> list[str]:
    if not profile or not profile.get("samples"):
        return []
    lines = [
        "",
        f"py-spy of campaigns, {title}: {profile['samples']:,} samples, idle {_share(profile['idle_share'])}",
    ]
    lines += ["", "| top 10 self (share of busy samples) | | top 10 inclusive | |", "|---|---:|---|---:|"]
    own = list(profile["self_share_of_busy"].items())[:10]
    inclusive = [(k, v) for k, v in profile["inclusive_share_of_busy"].items() if not _root_frame(k)][:10]
    for n in range(max(len(own), len(inclusive))):
        left = own[n] if n < len(own) else ("", None)
        right = inclusive[n] if n < len(inclusive) else ("", None)
        lines.append(f"| {left[0]} | {_share(left[1])} | {right[0]} | {_share(right[1])} |")
    return lines


ROOT_FRAMES = ("typer/", "runpy", "asyncio/", "campaigns/__main__.py", "entrypoints/cli.py", "shared/runtime.py")


def _root_frame(name: str) -> bool:
    """Frames every sample passes through (the CLI, asyncio's loop, the service runner): not informative."""
    return any(marker in name for marker in ROOT_FRAMES)


def _num(value: float | None, spec: str = ",.0f") -> str:
    return "n/a" if value is None else format(value, spec)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _pct(window: dict[str, Any] | None, key: str) -> str:
    return "n/a" if not window else f"{window[key]:.0f}%"


def _ratio(value: float | None, base: float | None, prefix: str = "") -> str:
    return "n/a" if value is None or not base else f"{prefix}{value / base:.3f}"


def _target(value: float | None, target: float, text: str) -> str:
    if value is None:
        return f"{text} (n/a)"
    return f"{text} ({'met' if value >= target else 'MISSED'})"
