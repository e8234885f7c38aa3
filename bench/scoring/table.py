"""The printed report: the merged results as a Markdown table, and the py-spy summaries."""

from __future__ import annotations

from typing import Any

from bench.scoring.config import TARGET_EVENTS_PER_S, TARGET_FIT_S, TARGET_P99_MS, TARGET_SWEEP_S


def render(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    t, b, lat, s, fit = (results.get(k) for k in ("throughput", "baseline", "latency", "sweep", "fit"))
    base_rate = b["rate"] if b else None
    if t:
        ratio = _ratio(t["rate_steady"], base_rate)
        rows.append(
            (
                "events applied to state / s, first committed batch → group lag 0",
                f"{_num(t['rate_steady'])} ({t['steady_events']:,} events in {_s(t['steady_s'])})",
                _target(t["rate_steady"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                ratio,
                t["command"],
            )
        )
        rows.append(
            (
                "events applied / s, spawn → group lag 0 (start-up included)",
                f"{_num(t['rate_with_startup'])} ({t['events']:,} events in {_s(t['lag_zero_after_s'])};"
                f" ready after {_s(t['startup_s'])})",
                _target(t["rate_with_startup"], TARGET_EVENTS_PER_S, "≥ 20,000/s", higher=True),
                _ratio(t["rate_with_startup"], base_rate),
                t["command"],
            )
        )
        if b:
            rows.append(
                (
                    "bare aiokafka consume loop (commit per batch), same records",
                    f"{_num(b['rate'])} ({b['records']:,} records in {_s(b['seconds'])})",
                    "—",
                    "1",
                    b["command"],
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
                f"{_num(t['cpu_s_per_1000_events'], '.3f')} CPU-s; {_pct(t['steady_process'], 'cpu_percent')}"
                f" of a core, host {_pct(t['steady_process'], 'host_cpu_percent')}",
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
                f"{t['state_events']:,} transitions, {_s(t['outbox_drained_after_s'])}",
                "—",
                "—",
                t["command"],
            )
        )
    if lat:
        rows.append(
            (
                f"published → state event consumed, p50 / p95 / p99 / max at {lat['offered_rate']:,.0f}/s offered",
                " / ".join(_ms(lat[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
                + f" ({lat['received']:,}/{lat['sent']:,} received, achieved {lat['achieved_rate']:,.0f}/s,"
                f" lost {lat['lost']:,}; scoring CPU {_pct(lat['process'], 'cpu_percent')} of a core,"
                f" host {_pct(lat['process'], 'host_cpu_percent')})",
                _target(lat["p99_ms"], TARGET_P99_MS, "p99 ≤ 250 ms", higher=False),
                _ratio(lat["p99_ms"], lat["bare_p99_ms"], "p99 ×"),
                lat["command"],
            )
        )
        rows.append(
            (
                "bare Kafka hop (published → bench consumed the input), same events",
                " / ".join(_ms(lat[k]) for k in ("bare_p50_ms", "bare_p95_ms", "bare_p99_ms", "bare_max_ms")),
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
                _target(s["seconds"], TARGET_SWEEP_S, "≤ 5 s", higher=False),
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
                _target(fit["fit_s"], TARGET_FIT_S, "≤ 30 s", higher=False),
                "—",
                str(fit["command"]),
            )
        )
    m = results.get("machine") or {}
    lines = [
        "## Scoring benchmark",
        "",
        f"{m.get('cpu_count')} cores, {m.get('memory_gib', 0):.1f} GiB RAM, {m.get('platform')},"
        f" Python {m.get('python')};"
        f" Kafka {m.get('kafka_bootstrap')} ({m.get('kafka_cluster')}), {m.get('postgres')} at"
        f" {m.get('postgres_address')}" + (", on this host" if m.get("stack_on_this_host") else ""),
        "",
        "| figure | value | target | ratio to bare loop | command |",
        "|---|---|---|---|---|",
        *(f"| {a} | {v} | {tg} | {r} | `{c}` |" for a, v, tg, r, c in rows),
    ]
    for title, section in (("phase 1 (backlog)", t), ("phase 3 (latency)", lat)):
        lines += _profile(title, (section or {}).get("profile"))
    return "\n".join(lines)


def _profile(title: str, profile: dict[str, Any] | None) -> list[str]:
    if not profile or not profile.get("samples"):
        return []
    lines = ["", f"py-spy, {title}: {profile['samples']:,} samples, idle {_share(profile['idle_share'])}", ""]
    lines += ["| self (share of busy samples) | | inclusive | |", "|---|---:|---|---:|"]
    own = list(profile["self_share_of_busy"].items())[:15]
    inclusive = [(k, v) for k, v in profile["inclusive_share_of_busy"].items() if not _root_frame(k)][:15]
    for n in range(max(len(own), len(inclusive))):
        left = own[n] if n < len(own) else ("", None)
        right = inclusive[n] if n < len(inclusive) else ("", None)
        lines.append(f"| {left[0]} | {_share(left[1])} | {right[0]} | {_share(right[1])} |")
    return lines


ROOT_FRAMES = ("typer/", "runpy", "asyncio/", "scoring/__main__.py", "entrypoints/cli.py", "shared/runtime.py")


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


def _rss(window: dict[str, Any] | None) -> str:
    if not window:
        return "n/a"
    return f"{window['rss_start_mib']:.0f} → {window['rss_peak_mib']:.0f} → {window['rss_end_mib']:.0f} MiB"


def _ratio(value: float | None, base: float | None, prefix: str = "") -> str:
    return "n/a" if value is None or not base else f"{prefix}{value / base:.3f}"


def _target(value: float | None, target: float, text: str, *, higher: bool) -> str:
    if value is None:
        return f"{text} (n/a)"
    met = value >= target if higher else value <= target
    return f"{text} ({'met' if met else 'MISSED'})"
