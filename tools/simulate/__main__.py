"""``python -m tools.simulate --members N --months M --seed S [--end YYYY-MM-DD] [--run ID] --out DIR``."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from tools.simulate.model import ChainSpec, today_midnight
from tools.simulate.simulation import simulate

app = typer.Typer(add_completion=False, help="Simulate a retail chain's members as upstream records.")


@app.command()
def main(
    out: Annotated[Path, typer.Option(help="Folder to write (created if missing)")],
    members: Annotated[int, typer.Option(help="Card members")] = 20_000,
    months: Annotated[int, typer.Option(help="Months of history")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: the same spec gives identical output")] = 7,
    end: Annotated[str | None, typer.Option(help="End of history, YYYY-MM-DD (UTC midnight); default today")] = None,
    run: Annotated[str, typer.Option(help="Run id, inside every upstream id")] = "demo",
    stores: Annotated[int, typer.Option(help="Stores")] = 20,
    communities: Annotated[int, typer.Option(help="Store communities")] = 50,
    backfill_months: Annotated[int, typer.Option(help="Months sent as backfill files")] = 1,
) -> None:
    """Write stores.csv, products.csv, contacts.csv, truth.jsonl, manifest.json and backfill/ to OUT."""
    try:
        ending = datetime.combine(date.fromisoformat(end), time(), UTC) if end else today_midnight()
        spec = ChainSpec(members, months, seed, ending, stores, communities, run, backfill_months)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    began = clock.monotonic()

    def progress(stage: str) -> None:
        typer.echo(f"[{clock.monotonic() - began:5.1f}s] {stage}", err=True)

    sim = simulate(spec, progress=progress if members * months >= 24_000 else lambda _: None)
    written = sim.write(out)
    manifest = sim.manifest()
    typer.echo(
        f"{manifest['records']} records in {clock.monotonic() - began:.1f}s, written to {out} ({len(written)} files)"
    )
    typer.echo(f"  history {manifest['history']['start']} .. {manifest['history']['end']}")
    typer.echo(f"  by route: {manifest['by_route']}")
    typer.echo(f"  by expect: {manifest['by_expect']}")
    typer.echo(
        f"  persons: {manifest['persons']}; card members churned {manifest['card_members']['churned']}, "
        f"returned {manifest['card_members']['returned']}"
    )
    for command in manifest["replay"]:
        typer.echo(f"  {command}")


if __name__ == "__main__":
    app(prog_name="python -m tools.simulate")
