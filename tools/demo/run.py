"""``make demo``: a generated retail chain through the four services, start to finish.

1. Generate the chain (``tools.simulate``) and write its files to ``out/sim/``.
2. Start from a clean slate (the services' tables emptied, their groups moved past old records),
   load the registries and contacts with the services' own CLIs, start the provider sinks and the
   four services. They keep running afterwards; ``make down`` stops them.
3. Backfill: the first months as files (ingest's replay CLI). Drain. Fit the models and the value
   tiers on that history, as an operator would before going live.
4. Live: the rest through Kafka and the signed webhook, in event-time order. Drain.
5. Read what happened from every service, check that the books balance, print the summary and
   write ``out/report.html``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from shared.settings import Settings
from tools.demo import config
from tools.demo.figures import truth
from tools.demo.publishing import LivePublisher
from tools.demo.replay import backfill_files, replay_files
from tools.demo.session import finish, open_session, pipeline_facts, start_the_rest
from tools.demo.steps import fit_and_rate, fit_models, member_id_of_card, write_contacts
from tools.simulate import ChainSpec, Route, Simulation, simulate

SIM_DIR = config.OUT_DIR / "sim"
BACKFILL_MONTHS = 3


@dataclass(frozen=True)
class Options:
    members: int
    months: int
    seed: int
    end: datetime


async def run(options: Options, console: Console) -> int:
    started_at = datetime.now(UTC)
    began = time.monotonic()
    settings = Settings()

    console.rule("[bold]1. A retail chain")
    spec = ChainSpec(
        members=options.members,
        months=options.months,
        seed=options.seed,
        end=options.end,
        backfill_months=BACKFILL_MONTHS,
    )
    sim = simulate(spec)
    sim.write(SIM_DIR)
    _describe(sim, console)
    contacts = SIM_DIR / "notifier-contacts.csv"
    written = write_contacts(sim.contacts, contacts)
    console.print(f"{written:,} members' contact points for the notifier: {contacts.relative_to(config.REPO_ROOT)}")

    console.rule("[bold]2. The stack")
    # The backfill is a backlog, read in event-time order at every step: the files go to the raw
    # topics merged oldest event first, then ingest reads its raw partitions in step by event time,
    # then scoring reads what ingest published, in step across topics, then campaigns reads what
    # both published, in step too. So the same seed gives the same states and offers. A service
    # started beside the one before it would read whatever had arrived so far, and the result would
    # depend on the moment it got there.
    session = await open_session(
        console, settings, SIM_DIR / "stores.csv", SIM_DIR / "products.csv", contacts, first=()
    )
    live = [r for r in sim.records if r.route is not Route.FILE]
    history_start = min(r.at for r in sim.records)
    try:
        console.rule(f"[bold]3. Backfill: the first {spec.backfill_months} months from files")
        files = await asyncio.to_thread(replay_files, backfill_files(SIM_DIR / "backfill"), console)
        session.published["files"] = len(sim.records) - len(live)
        start_the_rest(session, console, only=("ingest",))
        waited = await session.watcher.wait_drained(console)
        console.print(f"{files} files replayed ({session.published['files']:,} records); ingested in {waited:.0f} s")
        start_the_rest(session, console, only=("scoring",))
        waited = await session.watcher.wait_drained(console)
        console.print(f"scoring caught up in {waited:.0f} s")
        start_the_rest(session, console)
        waited = await session.watcher.wait_drained(console)
        console.print(f"campaigns and the notifier caught up in {waited:.0f} s")
        backfill_end = spec.end - timedelta(days=30.44 * (spec.months - spec.backfill_months))
        fit_and_rate(console, backfill_end)
        await asyncio.sleep(2.5)  # the services reload the model within MP_SCORING_POLICY_RELOAD_SECONDS (1)

        console.rule("[bold]4. Live: Kafka and the web shop's signed webhook")
        done = asyncio.Event()
        following = asyncio.create_task(session.watcher.follow(done))
        async with LivePublisher(settings.kafka.bootstrap_servers) as publisher:
            session.watcher.published = lambda: session.published["files"] + publisher.published
            await publisher.publish(live, console)
        done.set()
        await following
        waited = await session.watcher.wait_drained(console)
        routes = ", ".join(f"{n:,} {route}" for route, n in publisher.by_route.items())
        console.print(f"{publisher.published:,} records published live ({routes}); drained {waited:.0f} s later")

        console.rule("[bold]5. What happened")
        facts = await pipeline_facts(
            session,
            history_start,
            spec.end,
            planted_dlq=Counter(r.expect.removeprefix("dlq:") for r in sim.records if r.expect.startswith("dlq:")),
            duplicates_planted=sum(1 for r in sim.records if r.expect == "duplicate"),
        )
        # After the figures are read: a new model reloaded now would change the states of members due later.
        facts["_fit"] = await fit_models(console, settings, spec.end)
    finally:
        await session.watcher.close()
    churn_dates = {
        member_id_of_card(person["card_no"]): _instant(person.get("churned_at"))
        for person in sim.truth
        if person.get("kind") == "card_member"
    }
    facts["churn_recovery"] = truth.churn_recovery(churn_dates, facts["_warnings"], spec.end)
    stayed = {
        member_id_of_card(person["card_no"]): person["chat_habit"]
        for person in sim.truth
        if person.get("kind") == "card_member"
        and person.get("churned_at") is None
        and person.get("chat_habit") not in (None, "none")
    }
    facts["habit_recovery"] = truth.habit_recovery(stayed, facts["_tiers"])
    if fit := facts["_fit"]:
        facts["bgnbd"] = {
            "fitted": {k: fit["bgnbd"].get(k) for k in ("r", "alpha", "a", "b", "log_likelihood")},
            "published": None,
            "members": fit["members"],
            "units": "days",
        }
    facts["run"] = {
        "data": "synthetic",
        "seed": spec.seed,
        "members": spec.members,
        "months": spec.months,
        "history_start": history_start.date().isoformat(),
        "history_end": spec.end.date().isoformat(),
        "records_published": len(sim.records),
        "elapsed_s": round(time.monotonic() - began, 1),
        "started_at": started_at.isoformat(timespec="seconds"),
    }
    return finish(console, facts)


def _describe(sim: Simulation, console: Console) -> None:
    by_route = Counter(r.route.value for r in sim.records)
    by_format = Counter(r.source_format for r in sim.records)
    console.print(
        f"{len(sim.truth):,} people, {len(sim.stores)} stores, {len(sim.products)} products; "
        f"{len(sim.records):,} upstream records: " + ", ".join(f"{n:,} {fmt}" for fmt, n in by_format.most_common())
    )
    console.print("by route: " + ", ".join(f"{n:,} {route}" for route, n in by_route.most_common()))
    console.print(f"files, ground truth and manifest: {SIM_DIR.relative_to(config.REPO_ROOT)}/")


def _instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
