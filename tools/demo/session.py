"""What every demo run does around its data: a clean, running stack before, the facts and report after."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
from rich.console import Console

from shared.settings import SERVICE_NAMES, Settings
from tools.demo import config, processes
from tools.demo.figures import campaigns, ingest, notifier, scoring
from tools.demo.reset import reset
from tools.demo.steps import load_reference_data
from tools.demo.summary import accounting, print_summary
from tools.demo.watch import Watcher
from tools.demo_report import write_report
from tools.demo_report.facts import Facts
from tools.kafka_probe import KafkaProbe, Offsets
from tools.services import RunningService

REPORT = config.OUT_DIR / "report.html"
# The same facts as JSON: for scripts, and for checking that a seed gives the same run twice.
FACTS = config.OUT_DIR / "facts.json"


class OthersRunning(RuntimeError):
    """Service processes the demo did not start share its consumer groups."""


@dataclass
class Session:
    settings: Settings
    watcher: Watcher
    dlq_start: Offsets
    sink_url: str
    published: dict[str, int]  # records handed to ingest, by path; the watcher samples their sum
    services: list[RunningService]
    service_env: dict[str, str]  # what the services were started with: to start one again the same way
    replicas: int = 1


async def open_session(
    console: Console,
    settings: Settings,
    stores: Path,
    products: Path,
    contacts: Path | None,
    *,
    replicas: int = 1,
    first: Sequence[str] = SERVICE_NAMES,
) -> Session:
    """Stop an earlier demo, empty the services' tables, load reference data, start sinks and services.

    Only the ``first`` services start now; ``start_the_rest`` starts the others.
    """
    if others := processes.running_elsewhere():
        raise OthersRunning(
            f"service processes not started by the demo are running: {others}. They would share the demo's "
            "consumer groups: stop them, then run `make demo` again."
        )
    if stopped := processes.stop_all():
        console.print(f"stopped the previous demo's processes: {', '.join(stopped)}")
    emptied = await reset(settings)
    console.print(f"clean slate: {sum(emptied.values())} tables emptied, consumer groups moved past old records")
    load_reference_data(console, stores, products, contacts)
    console.print(
        "store registry and catalog loaded into ingest and campaigns"
        + (", contacts into the notifier" if contacts else "")
    )
    sinks = processes.start_sinks()
    service_env = config.service_env(sinks.smtp_ca_file)
    services = processes.start_services(service_env, replicas, first)
    console.print(
        f"provider sinks: {sinks.url} (SMS gateway, WeChat API, app webhook), smtp://127.0.0.1:{sinks.smtp_port}"
    )
    if services:
        console.print("services ready: " + ", ".join(f"{s.name} :{s.port}" for s in services))
    async with KafkaProbe(settings.kafka.bootstrap_servers) as probe:
        dlq_start = await probe.end_offsets(await probe.partitions(list(ingest.DLQ_TOPICS)))
    published: dict[str, int] = {}
    watcher = Watcher(settings, published=lambda: sum(published.values()), running=set(first))
    await watcher.start()
    return Session(settings, watcher, dlq_start, sinks.url, published, services, service_env, replicas)


def start_the_rest(session: Session, console: Console, only: Sequence[str] = SERVICE_NAMES) -> None:
    """Start the services ``open_session`` held back (of ``only``); the watcher waits for them from now on."""
    rest = [name for name in only if name not in session.watcher.running]
    started = processes.start_services(session.service_env, session.replicas, rest)
    session.services += started
    session.watcher.running.update(rest)
    console.print("services ready: " + ", ".join(f"{s.name} :{s.port}" for s in started))


async def pipeline_facts(
    session: Session,
    history_start: datetime,
    history_end: datetime,
    *,
    planted_dlq: Mapping[str, int] | None = None,
    duplicates_planted: int = 0,
) -> dict[str, Any]:
    """Every service's figures, read with its own role, plus the books."""
    settings = session.settings
    facts: dict[str, Any] = {}
    conn = await asyncpg.connect(settings.pg.dsn_for("scoring"))
    try:
        facts |= await scoring.over_time(conn, history_start, history_end)
        facts |= await scoring.now(conn)
        facts["_fit"] = await scoring.latest_fit(conn)
        facts["_warnings"] = await scoring.warnings_by_member(conn)
        facts["_tiers"] = await scoring.tiers_by_member(conn)
    finally:
        await conn.close()
    conn = await asyncpg.connect(settings.pg.dsn_for("campaigns"))
    try:
        decided = await campaigns.figures(conn)
    finally:
        await conn.close()
    conn = await asyncpg.connect(settings.pg.dsn_for("notifier"))
    try:
        delivered = await notifier.figures(conn, session.sink_url)
    finally:
        await conn.close()
    dead_by_service = await ingest.dead_letters(settings.kafka.bootstrap_servers, session.dlq_start)
    dead = Counter({reason: n for (service, reason), n in dead_by_service.items() if service == "ingest"})
    # Only ingest judges upstream input; a dead letter anywhere downstream is a bug the books must show.
    downstream = Counter(
        {f"{service}:{reason}": n for (service, reason), n in dead_by_service.items() if service != "ingest"}
    )
    counters = ingest.counters(f"{config.service_url('ingest')}/metrics")
    planted = dict(planted_dlq or {})
    facts |= {
        "offers_by_kind": decided["offers_by_kind"],
        "funnel": decided["funnel"],
        "uplift": decided["uplift"],
        "suppressions": decided["suppressions"] + delivered["suppressions"],
        "delivery": delivered["delivery"],
        "dlq": [
            {"reason": reason, "count": dead.get(reason, 0), "planted": planted.get(reason, 0)}
            for reason in sorted(set(dead) | set(planted))
        ],
        "throughput": {"samples": session.watcher.samples, "per_service": per_service(session.watcher.samples)},
        "accounting": accounting(
            decided["offers_issued"],
            delivered["offers"],
            dead,
            planted,
            downstream=downstream,
            duplicates_planted=duplicates_planted,
            duplicates_dropped=counters.get("records_duplicate", 0),
        ),
        "ingest_counters": counters,
        "sinks": delivered["sinks"],
        "notifier_failed_by_reason": delivered["failed_by_reason"],
        "endpoints": [{"name": e.name, "url": e.url} for e in config.endpoints()],
    }
    return facts


def finish(console: Console, facts: dict[str, Any]) -> int:
    """Print the summary and write the report; 0 when the books balance."""
    for private in [key for key in facts if key.startswith("_")]:
        del facts[private]
    balanced = print_summary(facts, console)
    write_report(cast(Facts, facts), REPORT)
    FACTS.write_text(json.dumps(facts, indent=1, sort_keys=True, default=str), encoding="utf-8")
    console.print(f"\nreport: [bold]{REPORT.relative_to(config.OUT_DIR.parent)}[/]  (open it in a browser)")
    console.print("the stack, the provider sinks and the four services keep running; `make down` stops everything")
    return 0 if balanced else 1


def per_service(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Records each service finished, over the time it was busy (the sampling intervals in which it moved)."""
    figures = {}
    for service in SERVICE_NAMES:
        seconds = sum(
            later["t_s"] - earlier["t_s"]
            for earlier, later in itertools.pairwise(samples)
            if later[f"{service}_done"] > earlier[f"{service}_done"]
        )
        records = int(samples[-1][f"{service}_done"]) if samples else 0
        figures[service] = {
            "records": records,
            "seconds": round(seconds, 1),
            "per_s": round(records / seconds, 1) if seconds else 0.0,
        }
    return figures
