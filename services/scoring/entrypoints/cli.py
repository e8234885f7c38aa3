"""``python -m services.scoring``: run the service, fit the models, recompute tiers, explain a member."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from services.scoring.adapters import model_repository
from services.scoring.entrypoints.service import MIGRATIONS, definition
from services.scoring.entrypoints.settings import ScoringSettings
from services.scoring.service_layer.fitting import NotEnoughData, fit_models
from services.scoring.service_layer.policy_holder import PolicyHolder
from services.scoring.service_layer.queries import member_view
from shared.postgres.service_schema import in_one_transaction
from shared.runtime import main as run_definition

app = typer.Typer(help="MemberPulse scoring: member state, churn warnings and value, on event time.")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _with_connection(work: Callable[[Any], Awaitable[T]]) -> T:
    return in_one_transaction("scoring", MIGRATIONS, work)


@app.callback(invoke_without_command=True)
def default(ctx: typer.Context) -> None:
    """Without a command, run the service."""
    if ctx.invoked_subcommand is None:
        run_definition(definition())


@app.command()
def run() -> None:
    """Run the scoring service: consumer, sweeper, policy refresh and management API."""
    run_definition(definition())


def _date(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def fit(
    until: Annotated[str | None, typer.Option(help="Fit on purchases up to this date (ISO 8601); default now")] = None,
) -> None:
    """Fit BG/NBD (r, α, a, b) and the Gamma-Gamma spend model on all members; store a new version."""
    cutoff = _date(until)
    err.print(f"fitting on purchase histories up to {cutoff:%Y-%m-%d %H:%M} UTC ...")
    try:
        report = _with_connection(lambda conn: fit_models(conn, cutoff))
    except NotEnoughData as exc:
        err.print(f"[red]not fitted:[/] {exc}")
        raise typer.Exit(1) from None
    except ValueError as exc:
        err.print(f"[red]the fit failed:[/] {exc}")
        raise typer.Exit(1) from None
    bg, gg = report.bgnbd, report.spend
    out.print(f"model version {report.version}: {report.members} buyers, {report.repeat_buyers} repeat buyers")
    out.print(f"  BG/NBD  r={bg.r:.4f} alpha={bg.alpha:.4f} a={bg.a:.4f} b={bg.b:.4f} (time in days)")
    out.print(f"          log-likelihood {bg.log_likelihood:.2f}")
    out.print(f"  spend   p={gg.p:.4f} q={gg.q:.4f} v={gg.v:.2f} (minor units)")
    out.print(f"  read {report.read_s:.2f} s, fitted in {report.fit_s:.2f} s; services pick it up within a minute")


@app.command()
def tiers(
    as_of: Annotated[
        str | None, typer.Option(help="Recency measured at this moment (ISO 8601); default now. For replays.")
    ] = None,
) -> None:
    """Recompute the RFM value-tier cut points from all buyers."""
    moment = _date(as_of)
    cuts = _with_connection(lambda conn: model_repository.compute_cuts(conn, moment))
    if cuts is None:
        err.print("[yellow]no buyers yet: no cut points[/]")
        raise typer.Exit(1)
    out.print(f"RFM cut points version {cuts.version}")
    out.print(f"  recency days {cuts.recency_days}\n  frequency {cuts.frequency}\n  net spend {cuts.monetary_minor}")


@app.command()
def explain(
    member: Annotated[str, typer.Argument(help="Member id (m_...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON the API returns")] = False,
) -> None:
    """Show a member's state, scores and the reasons behind them."""
    settings = ScoringSettings()
    lateness = timedelta(seconds=settings.allowed_lateness_seconds)

    async def view(conn: Any) -> dict[str, Any] | None:
        holder = PolicyHolder(settings.policy())
        return await member_view(conn, member, await holder.ready(conn), lateness)

    found = _with_connection(view)
    if found is None:
        err.print(f"[red]no member {member!r}[/]")
        raise typer.Exit(1)
    if as_json or "explanation" not in found:
        out.print_json(json.dumps(found, default=str))
        return
    out.print(f"[bold]{found['member_id']}[/] as of {found['as_of']}")
    for line in found["explanation"]:
        out.print(f"  {line}")
    out.print(f"  warnings now: {', '.join(found['warnings_now']) or 'none'}")
    for t in found["transitions"][:10]:
        out.print(f"  v{t['state_version']} {t['at']}: {t['from_lifecycle']} → {t['to_lifecycle']} {t['reasons']}")
