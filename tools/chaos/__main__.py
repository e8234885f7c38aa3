"""``python -m tools.chaos run``: the chaos and hostile-input scenarios, each checked against the oracle."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tools.chaos.plan import Dose, draw
from tools.chaos.scenarios import CHAOS_DIR, PAUSE_S, REPLICAS, History, Outcome, chaos, hostile, latency_within
from tools.demo.processes import stop_all
from tools.simulate.model import today_midnight


@dataclass(frozen=True)
class Sizes:
    chaos: tuple[int, int, Dose]  # members, months, faults
    hostile: tuple[int, int, float]  # members, months, good records offered a second


app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
RESULTS = CHAOS_DIR / "results.json"
# The full suite: a year of a 20,000-member chain (about 250,000 records) under 24 kills and every
# other fault; the reduced one (``--reduced``, in ``make test``) keeps every kind of fault, fewer times.
# The hostile runs offer good records at a rate the two cores carry with room to spare: at 1,000/s,
# with all four services and the stack busy, the machine is near saturation and p99 swings between
# runs (0.9x and 6.1x of the clean run in two runs), which measures the box rather than the input.
FULL = Sizes(chaos=(20_000, 12, Dose(kills=24, pauses=2)), hostile=(4_000, 12, 500.0))
REDUCED = Sizes(chaos=(600, 6, Dose(kills=8, pauses=1)), hostile=(700, 6, 400.0))
LATENCY_RATIO = 2.0


@app.command()
def run(
    scenario: Annotated[str, typer.Option(help="chaos, hostile or all")] = "all",
    reduced: Annotated[bool, typer.Option(help="The smaller version make test runs")] = False,
    seed: Annotated[int, typer.Option(help="Seeds the history and the faults: a failure replays exactly")] = 7,
) -> None:
    """Run the scenarios on the local stack (make up); exit 1 when any check fails."""
    console = Console()
    sizes = REDUCED if reduced else FULL
    outcomes: list[Outcome] = []
    try:
        if scenario in ("chaos", "all"):
            members, months, dose = sizes.chaos
            console.rule(f"[bold]chaos: {members:,} members, {months} months, seed {seed}")
            history = History(members, months, seed, today_midnight())
            outcomes.append(asyncio.run(chaos(history, dose, console)))
        if scenario in ("hostile", "all"):
            members, months, rate = sizes.hostile
            console.rule(f"[bold]hostile input: {members:,} members, {months} months, seed {seed}")
            history = History(members, months, seed, today_midnight())
            pair = asyncio.run(hostile(history, console, per_second=rate))
            if not reduced:
                pair[-1].findings.append(latency_within(pair[-1], LATENCY_RATIO))
            outcomes += pair
    finally:
        stop_all()
    if not outcomes:
        console.print(f"[red]unknown scenario {scenario!r}[/]: chaos, hostile or all")
        raise typer.Exit(2)
    for outcome in outcomes:
        console.print(_table(outcome))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([asdict(o) | {"passed": o.passed} for o in outcomes], indent=1, default=str))
    console.print(f"results: {RESULTS.relative_to(CHAOS_DIR.parent.parent)}")
    raise typer.Exit(0 if all(o.passed for o in outcomes) else 1)


@app.command()
def faults(
    reduced: Annotated[bool, typer.Option(help="The smaller version make test runs")] = False,
    seed: Annotated[int, typer.Option(help="The seed of the run to replay")] = 7,
) -> None:
    """Print the faults a run with this seed strikes, in order (no stack needed)."""
    dose = (REDUCED if reduced else FULL).chaos[2]
    for number, fault in enumerate(draw(seed, dose, replicas=REPLICAS, pause_s=PAUSE_S), 1):
        print(f"{number:>3}. {fault.describe()}")


def _table(outcome: Outcome) -> Table:
    verdict = "[green]passed[/]" if outcome.passed else "[red]FAILED[/]"
    table = Table(title=f"{outcome.scenario}: {outcome.records:,} records, {verdict}", title_justify="left")
    table.add_column("check")
    table.add_column("checked", justify="right")
    table.add_column("offences", justify="right")
    table.add_column("examples")
    for finding in outcome.findings:
        colour = "green" if finding.ok else "red" if finding.enforced else "yellow"
        mark = f"[{colour}]{finding.offences:,}[/]"
        check = finding.check if finding.enforced else f"{finding.check} [dim](tracked, not enforced)[/]"
        table.add_row(check, f"{finding.checked:,}", mark, "; ".join(finding.examples))
    figures = {**outcome.faults, **outcome.figures}
    table.caption = ", ".join(f"{k} {v}" for k, v in figures.items())
    if outcome.unplanned_exits:
        table.caption += f"; exited on their own: {', '.join(outcome.unplanned_exits)}"
    return table


if __name__ == "__main__":
    app()
