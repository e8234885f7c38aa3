"""``python -m services.campaigns``: run the service, report on campaigns, load definitions and reference data."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from services.campaigns.adapters import campaign_repository, reference_repository
from services.campaigns.adapters.campaign_repository import Change, Upserted
from services.campaigns.adapters.reference_repository import ReferenceFileError
from services.campaigns.domain.definitions import Campaign
from services.campaigns.entrypoints.service import MIGRATIONS, definition
from services.campaigns.service_layer.definitions_loader import DefinitionError, load_folder
from services.campaigns.service_layer.report import all_reports, campaign_report
from shared.postgres.service_schema import in_one_transaction
from shared.runtime import main as run_definition

app = typer.Typer(help="MemberPulse campaigns: offers from member state and purchases, under guards and budgets.")
campaigns_app = typer.Typer(help="Campaign definitions: YAML files, one campaign (or a list) per file.")
stores_app = typer.Typer(help="Store time zones and regions, from the registry CSV ingest loads too.")
catalog_app = typer.Typer(help="Product categories and price tiers, from the catalog CSV ingest loads too.")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(stores_app, name="stores")
app.add_typer(catalog_app, name="catalog")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ExistingDir = Annotated[Path, typer.Argument(exists=True, file_okay=False, readable=True)]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _with_connection(work: Callable[[Any], Awaitable[T]]) -> T:
    return in_one_transaction("campaigns", MIGRATIONS, work)


@app.callback(invoke_without_command=True)
def default(ctx: typer.Context) -> None:
    """Without a command, run the service."""
    if ctx.invoked_subcommand is None:
        run_definition(definition())


@app.command()
def run() -> None:
    """Run the campaigns service: consumers, queued-offer release and management API."""
    run_definition(definition())


# --- report ---------------------------------------------------------------------------------


def _money(minor: int | None) -> str:
    return "-" if minor is None else f"{minor / 100:,.2f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _points(value: float | None) -> str:
    """A difference of rates in percentage points, signed."""
    return "-" if value is None else f"{value * 100:+.1f}"


def _uplift(figures: dict[str, Any]) -> str:
    measured = figures["uplift"]
    if measured["absolute"] is None:
        return "- (needs both arms)"
    return f"{_points(measured['absolute'])} pp [{_points(measured['ci_low'])}, {_points(measured['ci_high'])}]"


def _report_table(reports: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="Campaigns: decisions, delivery and uplift against the holdout", title_justify="left")
    for column in ("campaign", "status", "issued", "holdout", "queued", "suppressed", "sent", "delivered"):
        table.add_column(column, justify="left" if column in ("campaign", "status") else "right")
    table.add_column("converted\ntreated / holdout", justify="right")
    table.add_column("uplift, 95% CI", justify="right")
    table.add_column("revenue\ntreated / holdout", justify="right")
    table.add_column("incremental\nrevenue", justify="right")
    for r in reports:
        table.add_row(
            r["campaign_id"] + (f" v{r['version']}" if r["version"] is not None else ""),
            r["status"] or "undefined",
            str(r["issued"]),
            str(r["holdout"]),
            str(r["queued"]),
            str(r["suppressed"]),
            str(r["sent"]),
            str(r["delivered"]),
            f"{_rate(r['conversion_rate']['treated'])} / {_rate(r['conversion_rate']['holdout'])}",
            _uplift(r),
            f"{_money(r['revenue_minor']['treated'])} / {_money(r['revenue_minor']['holdout'])}",
            _money(r["incremental_revenue_minor"]),
        )
    return table


@app.command()
def report(
    campaign_id: Annotated[str | None, typer.Argument(help="One campaign; default: all of them")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON the API returns")] = False,
) -> None:
    """Decisions, deliveries, conversions and uplift (treated vs holdout, 95% CI) per campaign."""
    if campaign_id is None:
        reports = _with_connection(all_reports)
    else:
        found = _with_connection(lambda conn: campaign_report(conn, campaign_id))
        if found is None:
            err.print(f"[red]no campaign {campaign_id!r}[/]")
            raise typer.Exit(1)
        reports = [found]
    if as_json:
        out.print_json(json.dumps(reports[0] if campaign_id is not None else reports))
        return
    if not reports:
        err.print("no campaigns defined yet: load some with `campaigns load DIR`")
        return
    out.print(_report_table(reports))
    for r in reports:
        if r["suppressed_by_reason"]:
            reasons = ", ".join(f"{reason} {n}" for reason, n in r["suppressed_by_reason"].items())
            out.print(f"  {r['campaign_id']} suppressed: {reasons}")
    out.print("  uplift: treated minus holdout conversion rate, in percentage points; money in major units")


# --- campaign definitions -------------------------------------------------------------------


def _definitions(folder: Path) -> list[Campaign]:
    try:
        return load_folder(folder)
    except DefinitionError as exc:
        err.print(f"[red]{len(exc.problems)} problem(s) in {folder}; nothing loaded:[/]")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from None


@campaigns_app.command("check")
def check_campaigns(folder: ExistingDir) -> None:
    """Validate every definition in FOLDER; needs no database."""
    campaigns = _definitions(folder)
    table = Table(title=f"{len(campaigns)} valid campaign(s) in {folder}", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("trigger", "message", "channels", "priority", "holdout", "deferrable"):
        table.add_column(column)
    for c in campaigns:
        trigger = c.trigger.kind.value + (f" {c.trigger.lifecycle.value}" if c.trigger.lifecycle else "")
        table.add_row(
            c.id,
            trigger,
            c.message_type.value,
            ", ".join(ch.value for ch in c.channels),
            str(c.priority),
            f"{c.holdout_pct:g}%",
            "yes" if c.deferrable else "no",
        )
    out.print(table)


@campaigns_app.command("load")
def load_campaigns(folder: ExistingDir) -> None:
    """Validate FOLDER and store its campaigns: new ones, and a new version of each that changed."""
    campaigns = _definitions(folder)
    origin = f"folder:{folder.resolve()}"

    async def store(conn: Any) -> list[Upserted]:
        return [await campaign_repository.upsert(conn, campaign, origin) for campaign in campaigns]

    results = _with_connection(store)
    style = {Change.CREATED: "green", Change.UPDATED: "yellow", Change.UNCHANGED: "dim"}
    for result in results:
        stored = result.stored
        out.print(
            f"[{style[result.change]}]{result.change.value:9}[/] {stored.campaign.id} "
            f"v{stored.version} ({stored.status.value})"
        )
    changed = sum(r.change is not Change.UNCHANGED for r in results)
    err.print(
        f"{changed} of {len(results)} campaign(s) changed; running services pick changes up within "
        "MP_CAMPAIGNS_REFRESH_SECONDS"
    )


# --- reference data -------------------------------------------------------------------------


def _load_reference(
    file: Path, read: Callable[[Path], list[T]], upsert: Callable[[Any, list[T]], Awaitable[int]], what: str
) -> None:
    try:
        items = read(file)
    except ReferenceFileError as exc:
        err.print(f"[red]{file.name}: {exc}[/] (nothing loaded)", highlight=False)
        raise typer.Exit(1) from None
    loaded = _with_connection(lambda conn: upsert(conn, items))
    err.print(f"loaded {loaded} {what} from {file.name}")


@stores_app.command("load")
def load_stores(file: ExistingFile) -> None:
    """Upsert store zones and regions from a CSV with header store_id,name,timezone,region,city."""
    _load_reference(file, reference_repository.read_stores_file, reference_repository.upsert_stores, "stores")


@catalog_app.command("load")
def load_catalog(file: ExistingFile) -> None:
    """Upsert products from a CSV with header sku,name,category,brand,price_tier (label or rank)."""
    _load_reference(file, reference_repository.read_products_file, reference_repository.upsert_products, "products")
