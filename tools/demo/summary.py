"""The run's summary on the console, and the books it must balance.

- Every offer campaigns issued ends in the notifier as sent, failed, suppressed or still pending
  (deferred to a later moment): issued = sent + failed + suppressed + pending.
- Every bad record the generator planted is in ingest's dead-letter topic with the reason planted,
  and no downstream service dead-letters anything (their input is ingest's clean output).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

OK, NOT_OK = "[green]✓[/]", "[red]✗[/]"


def accounting(
    offers_issued: int,
    offers: Mapping[str, int],
    dead: Mapping[str, int],
    planted: Mapping[str, int],
    *,
    downstream: Mapping[str, int],
    duplicates_planted: int,
    duplicates_dropped: int,
) -> dict[str, Any]:
    settled = offers["sent"] + offers["failed"] + offers["suppressed"] + offers["pending"]
    return {
        "offers_issued": offers_issued,
        "notifier_offers": offers["total"],
        "notifier_sent": offers["sent"],
        "notifier_failed": offers["failed"],
        "notifier_suppressed": offers["suppressed"],
        "notifier_pending": offers["pending"],
        "balanced": offers_issued == settled == offers["total"],
        "dlq_seen": sum(dead.values()),
        "dlq_planted": sum(planted.values()),
        "dlq_balanced": dict(dead) == {k: v for k, v in planted.items() if v} and not downstream,
        "dlq_downstream": dict(downstream),
        "duplicates_planted": duplicates_planted,
        "duplicates_dropped": duplicates_dropped,
    }


def _lead(days: float | None) -> str:
    if days is None:
        return "no warning anticipated a churn"
    when = "before" if days >= 0 else "after"
    return f"the median warning came {abs(days):.0f} days {when} the last purchase"


def _counts(title: str, counts: Mapping[str, int], order: tuple[str, ...] = ()) -> str:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    total = sum(counts.values()) or 1
    return f"{title}: " + ", ".join(f"{k} {counts[k]:,} ({100 * counts[k] / total:.0f}%)" for k in keys)


def print_summary(facts: Mapping[str, Any], console: Console) -> bool:
    """Print the summary; True when the books balance."""
    now = facts.get("members_now", {})
    console.print(_counts("engagement", now.get("engagement", {}), ("active", "participant", "lurker", "silent")))
    console.print(_counts("value", now.get("value", {}), ("vip", "high", "mid", "low")))
    console.print(
        _counts("lifecycle", now.get("lifecycle", {}), ("new", "active", "at_risk", "dormant", "reactivated"))
    )

    warnings = facts.get("churn_warnings_over_time", {}).get("by_reason", {})
    totals = {reason: sum(series) for reason, series in warnings.items()}
    console.print(
        f"churn warnings raised: {sum(totals.values()):,}; top reasons: "
        + ", ".join(f"{r} {n:,}" for r, n in sorted(totals.items(), key=lambda kv: -kv[1])[:4])
    )
    recovery = facts.get("churn_recovery")
    if recovery and recovery["precision"] is not None and recovery["recall"] is not None:
        console.print(
            f"planted churn recovered: precision {recovery['precision']:.0%}, recall {recovery['recall']:.0%} "
            f"({recovery['warned_and_churned']:,} of {recovery['warned']:,} warned members churned; "
            f"{recovery['true_churners']:,} observable churners); {_lead(recovery['median_lead_days'])}"
        )

    habits = facts.get("habit_recovery")
    if habits:
        tiers = ("active", "participant", "lurker", "silent")
        table = Table("planted habit (members who stayed)", *tiers, title="chat habits recovered as engagement tiers")
        for habit in tiers:
            row = habits.get(habit, {})
            total = sum(row.values()) or 1
            table.add_row(habit, *(f"{row.get(t, 0):,} ({100 * row.get(t, 0) / total:.0f}%)" for t in tiers))
        console.print(table)

    offers = Table("campaign", "trigger", "decided", "issued", "holdout", "suppressed", "queued", title="offers")
    for row in facts.get("offers_by_kind", []):
        offers.add_row(
            row["campaign"],
            row["kind"],
            *(f"{row[k]:,}" for k in ("decided", "issued", "holdout", "suppressed", "queued")),
        )
    console.print(offers)
    suppressions = Table("stage", "reason", "count", title="suppressions")
    for row in facts.get("suppressions", []):
        suppressions.add_row(row["stage"], row["reason"], f"{row['count']:,}")
    console.print(suppressions)

    sends = Table("channel", "status", "sends", title="notifier ledger (rows per channel)")
    for row in facts.get("delivery", []):
        sends.add_row(row["channel"], row["status"], f"{row['count']:,}")
    console.print(sends)
    sinks = facts.get("sinks", {})
    if sinks:
        smtp = sinks.get("smtp", {})
        console.print(
            f"the provider sinks received: {sinks.get('by_channel', {})}, email {smtp.get('messages', 0):,}; "
            f"repeated idempotency keys absorbed {sinks.get('duplicates_absorbed', 0)}, "
            f"repeated emails {smtp.get('duplicates', 0)}"
        )

    uplift = Table(
        "campaign", "offered", "conv.", "holdout", "conv.", "uplift (pp)", "95% CI", title="uplift vs holdout"
    )
    for row in facts.get("uplift", []):
        uplift.add_row(
            row["campaign"],
            f"{row['offered']:,}",
            f"{row['rate_offered']:.1%}",
            f"{row['holdout']:,}",
            f"{row['rate_holdout']:.1%}",
            f"{100 * row['uplift']:+.1f}" if row["uplift"] is not None else "-",
            f"[{100 * row['ci_low']:+.1f}, {100 * row['ci_high']:+.1f}]" if row["ci_low"] is not None else "-",
        )
    console.print(uplift)

    dlq = Table("reason", "dead letters", "planted", title="ingest dead letters")
    for row in facts.get("dlq", []):
        dlq.add_row(row["reason"], f"{row['count']:,}", f"{row['planted']:,}" if row["planted"] is not None else "-")
    console.print(dlq)

    books = facts.get("accounting", {})
    if not books:
        return False
    console.print(
        f"{OK if books['balanced'] else NOT_OK} offers issued {books['offers_issued']:,}"
        f" = sent {books['notifier_sent']:,}"
        f" + failed {books['notifier_failed']:,} + suppressed {books['notifier_suppressed']:,}"
        f" + pending {books['notifier_pending']:,} (notifier saw {books['notifier_offers']:,})"
    )
    console.print(
        f"{OK if books['dlq_balanced'] else NOT_OK} dead letters {books['dlq_seen']:,},"
        f" planted {books['dlq_planted']:,}; downstream services {sum(books['dlq_downstream'].values()):,}"
        f" {books['dlq_downstream'] or ''};"
        f" duplicates planted {books['duplicates_planted']:,}, dropped by ingest {books['duplicates_dropped']:,}"
    )
    throughput = facts.get("throughput", {}).get("per_service", {})
    if throughput:
        console.print(
            "throughput (records per busy second): "
            + ", ".join(f"{s} {t['per_s']:,.0f}/s ({t['records']:,})" for s, t in throughput.items())
        )
    run = facts.get("run", {})
    if run:
        console.print(f"whole run {run.get('elapsed_s', 0):.0f} s")
    console.print("endpoints:")
    for endpoint in facts.get("endpoints", []):
        console.print(f"  {endpoint['name']:<32} {endpoint['url']}")
    return bool(books["balanced"] and books["dlq_balanced"])
