"""The report's tables and headline numbers, built from the facts (no charts here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.demo_report.charts.base import label, ordered
from tools.demo_report.charts.palette import ENGAGEMENT_ORDER, LIFECYCLE_ORDER, VALUE_ORDER
from tools.demo_report.facts import (
    Accounting,
    BgNbd,
    ChurnRecovery,
    DeadLetters,
    Endpoint,
    MembersNow,
    ServiceThroughput,
)
from tools.demo_report.model import Block, Cell, Stat, Table

OK, BAD = "✓", "✗"


def _n(value: float) -> Cell:
    return Cell(f"{value:,}" if isinstance(value, int) else f"{value:,.1f}", "num")


def _check(ok: bool, yes: str = "balanced", no: str = "off") -> Cell:
    return Cell(f"{OK} {yes}" if ok else f"{BAD} {no}", "ok" if ok else "bad")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def churn_recovery(data: ChurnRecovery) -> Block:
    lead = data["median_lead_days"]
    hit = f"{data['warned_and_churned']:,}"
    stats = (
        Stat("precision", _pct(data["precision"]), f"{hit} of {data['warned']:,} warned members churned"),
        Stat("recall", _pct(data["recall"]), f"{hit} of {data['true_churners']:,} churners were warned"),
        Stat("median lead", "–" if lead is None else f"{lead:,.0f} days", "from the first warning to churn"),
    )
    return Block("Did the warnings catch the churners?", "stats", stats=stats, note=data["definition"])


def accounting(data: Accounting) -> Block:
    parts = ("notifier_sent", "notifier_failed", "notifier_suppressed", "notifier_pending")
    settled = " + ".join(f"{data[p]:,}" for p in parts)  # type: ignore[literal-required]
    dup_ok = data["duplicates_planted"] == data["duplicates_dropped"]
    rows = (
        (
            Cell("offers issued = notifier sent + failed + suppressed + pending"),
            _n(data["offers_issued"]),
            Cell(f"{settled} = {sum(data[p] for p in parts):,}", "num"),  # type: ignore[literal-required]
            _check(data["balanced"]),
        ),
        (
            Cell("dead letters seen = bad records planted"),
            _n(data["dlq_planted"]),
            _n(data["dlq_seen"]),
            _check(data["dlq_balanced"]),
        ),
        (
            Cell("duplicates dropped = duplicates planted"),
            _n(data["duplicates_planted"]),
            _n(data["duplicates_dropped"]),
            _check(dup_ok),
        ),
    )
    all_ok = data["balanced"] and data["dlq_balanced"] and dup_ok
    verdict = (
        f"{OK} Every check balances." if all_ok else f"{BAD} Some checks do not balance: see the rows marked {BAD}."
    )
    table = Table(("check", "expected", "observed", "result"), rows, numeric=(False, True, True, False))
    return Block("The books", "tables", tables=(table,), note=verdict, verdict="ok" if all_ok else "bad")


def dead_letters(data: Sequence[DeadLetters]) -> Block:
    rows: list[tuple[Cell, ...]] = []
    for d in sorted(data, key=lambda d: (-d["count"], d["reason"])):
        planted = d["planted"]
        match = Cell("–") if planted is None else _check(planted == d["count"], "match", "differs")
        shown = Cell("unknown", "num") if planted is None else _n(planted)
        rows.append((Cell(d["reason"], "code"), _n(d["count"]), shown, match))
    known = [d["planted"] for d in data if d["planted"] is not None]
    rows.append(
        (
            Cell("total"),
            _n(sum(d["count"] for d in data)),
            _n(sum(p for p in known if p is not None)) if known else Cell("unknown", "num"),
            Cell(""),
        )
    )
    table = Table(
        ("reason", "seen", "planted", "match"), tuple(rows), numeric=(False, True, True, False), total_row=True
    )
    return Block(
        "Dead letters by reason", "tables", tables=(table,), note="Planted: what the generator broke on purpose."
    )


def _counts(title: str, counts: Mapping[str, int], preferred: Sequence[str]) -> Table:
    """Counts and shares in ``preferred`` order (largest first when there is none), with a total row."""
    total = sum(counts.values())
    keys = ordered(counts, preferred) if preferred else sorted(counts, key=lambda k: (-counts[k], k))
    rows = tuple(
        (Cell(label(k)), _n(counts[k]), Cell(f"{counts[k] / total:.1%}" if total else "–", "num")) for k in keys
    )
    rows += ((Cell("total"), _n(total), Cell("100%" if total else "–", "num")),)
    return Table((title, "members", "share"), rows, numeric=(False, True, True), total_row=True)


def members_now(data: MembersNow) -> Block:
    tables = tuple(
        _counts(title, data[key], order)  # type: ignore[literal-required]
        for key, title, order in (
            ("engagement", "engagement tier", ENGAGEMENT_ORDER),
            ("value", "value tier", VALUE_ORDER),
            ("lifecycle", "lifecycle", LIFECYCLE_ORDER),
        )
        if data.get(key)
    )
    return Block("Members at the end of the run", "tables", tables=tables)


def habit_recovery(data: Mapping[str, Mapping[str, int]]) -> Block:
    """Planted chat habit (rows) against the engagement tier scoring ended with (columns), as row shares."""
    rows = []
    for habit in [h for h in ENGAGEMENT_ORDER if h in data]:
        counts = data[habit]
        total = sum(counts.values()) or 1
        rows.append(
            (
                Cell(habit),
                *(
                    Cell(f"{counts.get(t, 0):,} ({100 * counts.get(t, 0) / total:.0f}%)", "num")
                    for t in ENGAGEMENT_ORDER
                ),
            )
        )
    table = Table(
        ("planted habit", *ENGAGEMENT_ORDER),
        tuple(rows),
        caption="Members the generator gave each chat habit and who never churned, by the tier scoring ended with.",
        numeric=(False, *(True for _ in ENGAGEMENT_ORDER)),
    )
    return Block("Did scoring recover the planted chat habits?", "tables", tables=(table,))


def churn_reasons_now(data: Mapping[str, int]) -> Block:
    table = _counts("reason", data, ())
    return Block("Members at risk now, by reason", "tables", tables=(table,))


def per_service(data: Mapping[str, ServiceThroughput]) -> Block:
    rows = tuple(
        (Cell(name), _n(int(s["records"])), Cell(f"{s['seconds']:,.1f}", "num"), Cell(f"{s['per_s']:,.1f}", "num"))
        for name, s in data.items()
    )
    table = Table(("service", "records", "seconds", "records/s"), rows, numeric=(False, True, True, True))
    return Block("Per service", "tables", tables=(table,))


def bgnbd(data: BgNbd) -> Block:
    fitted, published = data["fitted"], data["published"]
    rows: list[tuple[Cell, ...]] = []
    for p in ("r", "alpha", "a", "b", "log_likelihood"):
        mine: float = fitted[p]
        if published is None:
            rows.append((Cell(p, "code"), Cell(f"{mine:.4f}", "num"), Cell("–"), Cell("–")))
            continue
        ref: float = published[p]
        diff = _relative(mine, ref)
        rows.append((Cell(p, "code"), Cell(f"{mine:.4f}", "num"), Cell(f"{ref:.4f}", "num"), Cell(diff, "num")))
    note = f"Fitted on {data['members']:,} members; time in {data['units']}."
    if published is None:
        note += " There is no published reference for this data."
    table = Table(("parameter", "fitted", "published", "difference"), tuple(rows), numeric=(False, True, True, True))
    return Block("BG/NBD parameters", "tables", tables=(table,), note=note)


def _relative(mine: float, ref: float) -> str:
    """``mine`` against ``ref`` as a signed relative difference ("≈ 0" under 0.01 %)."""
    if not ref:
        return f"{mine - ref:+.4f}"
    rel = (mine - ref) / abs(ref)
    return "≈ 0" if abs(rel) < 0.00005 else f"{rel:+.2%}"


def endpoints(data: Sequence[Endpoint]) -> Block:
    rows = tuple((Cell(e["name"]), Cell(e["url"], "code", href=_safe_href(e["url"]))) for e in data)
    table = Table(("what", "where"), rows)
    return Block("Endpoints", "tables", tables=(table,), note="Live only while the demo's stack runs.")


def _safe_href(url: str) -> str | None:
    return url if url.startswith(("http://", "https://")) else None
