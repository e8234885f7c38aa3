"""``make demo DATA=cdnow``: the real CDNOW purchase history through the pipeline, and scoring's BG/NBD fit
on it next to the published one (Fader, Hardie & Lee 2005).

CDNOW's 2,357 customers bought between 1997-01-01 and 1998-06-30. Ingest refuses event times
before 2000, so ``tools.cdnow`` shifts the history by 1,461 weeks (28 years: same dates, same
weekdays), which changes none of the model's parameters. Scoring then fits on the 39-week
calibration period, up to the shifted 1997-09-30, exactly as the paper did.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from shared.settings import Settings
from tools import cdnow
from tools.demo import config
from tools.demo.replay import replay_files
from tools.demo.session import finish, open_session, pipeline_facts
from tools.demo.steps import cli

CDNOW_DIR = config.OUT_DIR / "cdnow"
CDNOW_START = datetime(1997, 1, 1, tzinfo=UTC)


async def run_cdnow(console: Console) -> int:
    started_at = datetime.now(UTC)
    began = time.monotonic()
    settings = Settings()
    console.rule("[bold]1. The CDNOW sample")
    files = cdnow.write_replay_files(CDNOW_DIR)
    console.print(
        f"{files.customers:,} customers, {files.receipts:,} receipts (a customer's purchases of one day are one "
        f"receipt, as in the paper's summary); history shifted by {files.shift_weeks:,} weeks, so the "
        f"calibration end 1997-09-30 is {files.calibration_end.date()}"
    )

    console.rule("[bold]2. The stack")
    session = await open_session(console, settings, files.stores_csv, files.products_csv, None)
    try:
        console.rule("[bold]3. Replay: the purchase history as a file")
        await asyncio.to_thread(replay_files, [files.purchases_csv], console, "purchases_csv")
        session.published["files"] = files.receipts
        waited = await session.watcher.wait_drained(console)
        console.print(f"drained {waited:.0f} s after the replay")

        console.rule("[bold]4. Scoring's BG/NBD fit on the 39-week calibration period")
        cli(console, "scoring", "fit", "--until", files.until, quiet=False)
        history_start = CDNOW_START + files.shift
        facts = await pipeline_facts(session, history_start, files.last_purchase_at + timedelta(days=1))
    finally:
        await session.watcher.close()
    # The stored parameter set, at full precision, rather than the fit's printed four decimals.
    rows = cdnow.published_comparison(facts["_fit"]["bgnbd"], cdnow.SCORING_UNITS)
    _print_comparison(rows, console)
    by_name = {row.parameter: row for row in rows}
    facts["bgnbd"] = {
        "fitted": {name: by_name[name].fitted for name in ("r", "alpha", "a", "b", "log_likelihood")},
        "published": {name: by_name[name].published for name in ("r", "alpha", "a", "b", "log_likelihood")},
        "members": files.customers,
        "units": "weeks",
    }
    facts["run"] = {
        "data": "cdnow",
        "seed": None,
        "members": files.customers,
        "months": 18,
        "history_start": history_start.date().isoformat(),
        "history_end": files.last_purchase_at.date().isoformat(),
        "records_published": files.receipts,
        "elapsed_s": round(time.monotonic() - began, 1),
        "started_at": started_at.isoformat(timespec="seconds"),
    }
    return finish(console, facts)


def _print_comparison(rows: list[cdnow.Row], console: Console) -> None:
    table = Table("parameter (time in weeks)", "scoring's fit", "published", "difference", title="BG/NBD on CDNOW")
    for row in rows:
        table.add_row(row.parameter, f"{row.fitted:.4f}", f"{row.published:.4f}", f"{row.difference:+.4f}")
    console.print(table)
    console.print('published: Fader, Hardie & Lee (2005), "Counting your customers the easy way", CDNOW sample')
