"""The demo's steps that are commands an operator would type: registry and contact loads, the model fit.

They run as the services' own CLIs (``python -m services.<name> ...``), so the demo goes through
the same doors as an operator, with each service's own database role.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console

from services.ingest.domain.identity import identifier, member_id_for
from services.ingest.entrypoints.settings import IngestSettings
from shared.settings import Settings
from tools.demo.figures import scoring
from tools.services import REPO_ROOT

CONTACT_COLUMNS = ("member_id", "phone", "email", "wechat_openid", "app_user_id", "locale", "time_zone")


class StepFailed(RuntimeError):
    """A service CLI refused the demo's input; its output says why."""


def cli(console: Console, service: str, *args: str, quiet: bool = True) -> str:
    """Run ``python -m services.<service> ARGS``; its output, or StepFailed with it."""
    command = [sys.executable, "-m", f"services.{service}", *args]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StepFailed(f"`{' '.join(command[1:])}` exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    if not quiet:
        console.print(result.stdout.rstrip())
    return result.stdout


@cache
def _ingest_salt() -> bytes:
    """The running ingest's PII salt: read once, not once per card (the demo maps 20,000 cards, thrice)."""
    return IngestSettings().pii_salt.get_secret_value().encode()


def member_id_of_card(card_no: str) -> str:
    """The member id ingest gives a member first named by this card (same salt as the running ingest)."""
    return member_id_named_by("card_no", card_no)


def member_id_named_by(kind: str, raw: str) -> str:
    """The member id ingest gives a member first named by this identifier (card, phone, shop customer id …)."""
    return member_id_for(identifier(kind, raw, _ingest_salt()))


def write_contacts(rows: Iterable[Mapping[str, str | None]], path: Path) -> int:
    """The notifier's contacts file: the CRM's contact points, keyed by the member id ingest assigns."""
    written = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, CONTACT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "member_id": member_id_of_card(str(row["card_no"])),
                    **{column: row.get(column) or "" for column in CONTACT_COLUMNS[1:]},
                }
            )
            written += 1
    return written


def load_reference_data(console: Console, stores: Path, products: Path, contacts: Path | None) -> None:
    cli(console, "ingest", "stores", "load", str(stores))
    cli(console, "ingest", "catalog", "load", str(products))
    cli(console, "campaigns", "stores", "load", str(stores))
    cli(console, "campaigns", "catalog", "load", str(products))
    if contacts is not None:
        cli(console, "notifier", "contacts", "load", str(contacts))


def fit_and_rate(console: Console, until: datetime) -> None:
    """Fit BG/NBD and Gamma-Gamma on the history so far, and recompute the value-tier cut points."""
    moment = until.isoformat()
    cli(console, "scoring", "fit", "--until", moment, quiet=False)
    cli(console, "scoring", "tiers", "--as-of", moment)


async def fit_models(console: Console, settings: Settings, until: datetime) -> dict[str, Any] | None:
    """Fit on the whole history and read back the stored parameter set (full precision)."""
    cli(console, "scoring", "fit", "--until", until.isoformat(), quiet=False)
    conn = await asyncpg.connect(settings.pg.dsn_for("scoring"))
    try:
        return await scoring.latest_fit(conn)
    finally:
        await conn.close()
