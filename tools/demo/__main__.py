"""``python -m tools.demo``: the whole pipeline on a generated chain (or CDNOW); ``stop`` ends what it left running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from tools.demo import processes

app = typer.Typer(add_completion=False, no_args_is_help=False, help=__doc__)


def _midnight(value: str | None) -> datetime:
    if value:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    today = datetime.now(UTC)
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


@app.command()
def run(
    members: Annotated[int, typer.Option(min=100, help="Card members in the chain")] = 20_000,
    months: Annotated[int, typer.Option(min=4, max=36, help="Months of history")] = 12,
    seed: Annotated[int, typer.Option(help="The generator's seed: same seed and end, same results")] = 7,
    end: Annotated[str | None, typer.Option(help="Last day of history, exclusive (YYYY-MM-DD); default today")] = None,
    data: Annotated[str, typer.Option(help="synthetic, or cdnow for the CDNOW sample")] = "synthetic",
) -> None:
    """Run the demo; the stack and the services keep running afterwards."""
    console = Console()
    if data == "cdnow":
        from tools.demo.cdnow_run import run_cdnow

        raise typer.Exit(asyncio.run(run_cdnow(console)))
    if data != "synthetic":
        console.print(f"[red]unknown DATA {data!r}[/]: use synthetic (the default) or cdnow")
        raise typer.Exit(2)
    from tools.demo.run import Options
    from tools.demo.run import run as run_demo

    raise typer.Exit(asyncio.run(run_demo(Options(members, months, seed, _midnight(end)), console)))


@app.command()
def stop() -> None:
    """Stop the services and sinks a demo left running."""
    stopped = processes.stop_all()
    print(f"demo processes stopped: {', '.join(stopped)}" if stopped else "no demo processes running")


if __name__ == "__main__":
    app()
