"""``python -m tools.demo``: the whole pipeline on a generated chain (or CDNOW); ``stop`` ends what it left running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from tools.demo import processes
from tools.demo.session import FACTS, OthersRunning

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
    # A failed run must not leave the previous run's figures looking like its own.
    FACTS.unlink(missing_ok=True)
    try:
        code = _run(data, members, months, seed, end, console)
    except OthersRunning as exc:
        console.print(f"[red]{exc}[/]")
        code = 2
    raise typer.Exit(code)


def _run(data: str, members: int, months: int, seed: int, end: str | None, console: Console) -> int:
    if data == "cdnow":
        from tools.demo.cdnow_run import run_cdnow

        return asyncio.run(run_cdnow(console))
    if data != "synthetic":
        console.print(f"[red]unknown DATA {data!r}[/]: use synthetic (the default) or cdnow")
        return 2
    from tools.demo.run import Options
    from tools.demo.run import run as run_demo

    return asyncio.run(run_demo(Options(members, months, seed, _midnight(end)), console))


@app.command()
def stop() -> None:
    """Stop the services and sinks a demo left running."""
    stopped = processes.stop_all()
    print(f"demo processes stopped: {', '.join(stopped)}" if stopped else "no demo processes running")


if __name__ == "__main__":
    app()
