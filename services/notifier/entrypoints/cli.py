"""``python -m services.notifier``: run the service, load contacts, check templates, report sends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from services.notifier.adapters import contact_repository, send_ledger
from services.notifier.adapters.contacts_file import ContactFileError, read_contacts_file
from services.notifier.adapters.templates import TemplateRenderer
from services.notifier.entrypoints.service import MIGRATIONS, definition
from services.notifier.entrypoints.settings import NotifierSettings
from shared.postgres.service_schema import in_one_transaction
from shared.runtime import main as run_definition

app = typer.Typer(help="MemberPulse notifier: offers delivered as SMS, WeChat, email and webhooks.")
contacts_app = typer.Typer(help="Where members can be reached: the chain's contact export.")
templates_app = typer.Typer(help="Message templates: the built-in set and the chain's overrides.")
app.add_typer(contacts_app, name="contacts")
app.add_typer(templates_app, name="templates")
out = Console()
err = Console(stderr=True)
CHUNK = 5_000

ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


@app.callback(invoke_without_command=True)
def default(ctx: typer.Context) -> None:
    """Without a command, run the service."""
    if ctx.invoked_subcommand is None:
        run_definition(definition())


@app.command()
def run() -> None:
    """Run the notifier: offer consumer, dispatcher, inbound and management API."""
    run_definition(definition())


@contacts_app.command("load")
def load_contacts(file: ExistingFile) -> None:
    """Upsert contacts from a CSV with header member_id,phone,email,wechat_openid,app_user_id,locale,time_zone."""
    settings = NotifierSettings()
    try:
        contacts = read_contacts_file(file, settings.default_phone_region)
    except ContactFileError as exc:
        err.print(f"[red]{file.name}: {exc}[/] (nothing loaded)", highlight=False)
        raise typer.Exit(1) from None

    async def store(conn: Any) -> int:
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("loading contacts", total=len(contacts))
            for start in range(0, len(contacts), CHUNK):
                chunk = contacts[start : start + CHUNK]
                await contact_repository.upsert_contacts(conn, chunk)
                progress.advance(task, len(chunk))
        return len(contacts)

    loaded = in_one_transaction("notifier", MIGRATIONS, store)
    err.print(f"loaded {loaded} contacts from {file.name}")


@templates_app.command("check")
def check_templates(folder: Annotated[Path | None, typer.Argument(exists=True, file_okay=False)] = None) -> None:
    """Compile every template (the built-in set, and FOLDER or MP_NOTIFIER_TEMPLATES_DIR); exit 1 on problems."""
    settings = NotifierSettings()
    renderer = TemplateRenderer(override_dir=folder or settings.templates_dir, default_locale=settings.default_locale)
    problems = renderer.check()
    for problem in problems:
        err.print(f"[red]{problem}[/]", highlight=False)
    if problems:
        raise typer.Exit(1)
    err.print("templates ok")


@app.command()
def report() -> None:
    """Sends by channel and status."""

    async def read(conn: Any) -> dict[tuple[str, str], int]:
        return await send_ledger.counts(conn)

    counts = in_one_transaction("notifier", MIGRATIONS, read)
    table = Table("channel", "status", "sends")
    for (channel, status), n in sorted(counts.items()):
        table.add_row(channel, status, f"{n:,}")
    out.print(table)
