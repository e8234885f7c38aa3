"""``python -m services.ingest``: run the service, replay files, load the registries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from services.ingest.adapters import repository
from services.ingest.adapters.replay import ReplayInput, replay_files
from services.ingest.adapters.replay_files import ReplayFileError, file_layout
from services.ingest.domain.normalise import PARSERS
from services.ingest.domain.registries import RegistryError, products_from_csv, stores_from_csv
from services.ingest.entrypoints.service import DEFINITION
from services.ingest.entrypoints.settings import IngestSettings
from shared.postgres.service_schema import in_one_transaction
from shared.runtime import main as run_definition
from shared.settings import Settings

app = typer.Typer(help="MemberPulse ingest: upstream events in, canonical member events out.", no_args_is_help=False)
stores_app = typer.Typer(help="The store registry (id, name, IANA time zone, region, city).")
catalog_app = typer.Typer(help="The product catalog (sku, name, category, brand, price tier).")
app.add_typer(stores_app, name="stores")
app.add_typer(catalog_app, name="catalog")
err = Console(stderr=True)


@app.callback(invoke_without_command=True)
def default(ctx: typer.Context) -> None:
    """Without a command, run the service."""
    if ctx.invoked_subcommand is None:
        run_definition(DEFINITION)


@app.command()
def run() -> None:
    """Run the ingest service: Kafka consumer, outbox relay and HTTP API."""
    run_definition(DEFINITION)


@app.command()
def replay(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[
        str | None,
        typer.Option(help=f"Source format of every FILE: one of {sorted(PARSERS)}; by default each file's name"),
    ] = None,
    layout: Annotated[str | None, typer.Option(help="jsonl, xml or csv; guessed from each extension")] = None,
) -> None:
    """Backfill FILES through the live pipeline: every record goes to the raw topics, with a progress bar.

    Several files are merged oldest event first, so the topics carry the history in the order it
    happened (each file is read in its own order). Without --source, a file named after its source
    format (purchases_csv.csv, chat_json.jsonl) is read as that format.
    """
    try:
        inputs = [ReplayInput(file, _source_of(file, source), file_layout(file, layout)) for file in files]
    except ReplayFileError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    settings = Settings()
    ingest = IngestSettings()
    zone_of = _store_zones(ingest.default_timezone) if len(inputs) > 1 else lambda _: ingest.default_timezone
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    names = ", ".join(file.name for file in files)
    with Progress(*columns, TimeRemainingColumn(), console=err) as progress:
        task = progress.add_task(f"replaying {names}", total=sum(file.stat().st_size for file in files))
        try:
            report = asyncio.run(
                replay_files(
                    inputs,
                    parser=ingest.parser(),
                    kafka=settings.kafka,
                    zone_of=zone_of,
                    progress=lambda done: progress.update(task, completed=done),
                )
            )
        except ReplayFileError as exc:
            err.print(f"[red]{exc}[/] (records before the error were published; a rerun skips them as duplicates)")
            raise typer.Exit(1) from None
    for name, published in report.published.items():
        err.print(
            f"published {published} records from {name} to the raw topics; "
            f"{report.invalid[name]} of them are invalid and will be dead-lettered with their reasons"
        )


def _source_of(file: Path, source: str | None) -> str:
    chosen = source or file.stem
    if chosen not in PARSERS:
        named = f"unknown source {chosen!r}" if source else f"cannot tell the source format of {file.name}"
        raise ReplayFileError(f"{named}; pass --source, one of {sorted(PARSERS)}")
    return chosen


def _store_zones(default: str) -> Callable[[str], str]:
    """Each store's time zone from the registry, to place till receipts among the other files' events."""
    try:
        zones = in_one_transaction("ingest", DEFINITION.migrations, repository.store_zones)
    except (OSError, asyncpg.PostgresError) as exc:
        err.print(f"[yellow]store registry not read ({exc}); till receipts are ordered as {default} times[/]")
        zones = {}
    return lambda store_id: zones.get(store_id, default)


@stores_app.command("load")
def load_stores(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Upsert stores from a CSV with header store_id,name,timezone,region,city."""
    _load(file, stores_from_csv, repository.upsert_stores, "stores")


@catalog_app.command("load")
def load_catalog(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Upsert products from a CSV with header sku,name,category,brand,price_tier."""
    _load(file, products_from_csv, repository.upsert_products, "products")


def _load(file: Path, parse, upsert, what: str) -> None:  # type: ignore[no-untyped-def]
    try:
        items = parse(file.read_text(encoding="utf-8"))
    except (RegistryError, UnicodeDecodeError) as exc:
        err.print(f"[red]{file.name}: {exc}[/] (nothing loaded)")
        raise typer.Exit(1) from None

    async def load(conn) -> int:  # type: ignore[no-untyped-def]
        return int(await upsert(conn, items))

    err.print(f"loaded {in_one_transaction('ingest', DEFINITION.migrations, load)} {what} from {file.name}")
