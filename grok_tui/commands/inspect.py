"""The ``inspect`` command: open a saved run or a folder of runs, or print their summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.checkpoint_geometry import checkpoint_problem
from engine.metrics import GROK_THRESHOLD
from engine.runs import CONFIG_FILE, Run, RunError
from engine.summary import RunSummary, summarize_run
from engine.tasks import Task
from grok_tui.commands.runs import (
    UNREADABLE,
    RunRow,
    collect_rows,
    no_runs_message,
    plain_table,
    print_problems,
)
from grok_tui.errors import USAGE_ERROR, fail

INSPECT_HELP = """Explore a saved run, or a folder of runs, and its checkpoints.

PATH is a run folder (runs/NAME) or a folder of runs (runs/). On a terminal this opens the
inspect app: a run's curves, heatmap and bounds, following the run live while it trains,
and a checkpoint scrubber that recomputes the geometry of any checkpoint on the CPU. A
folder opens the run browser. With --print, or when stdout is not a terminal, it prints a
plain-text summary instead, and --json prints the summary as JSON. Exit code 2 when PATH
is not a readable run or folder of runs. Problems inside a readable run, such as an
unreadable metrics line or checkpoint, are printed as warnings on stderr after the summary
(or after the app closes) of everything still readable, and also exit with code 2.
"""


def is_run_folder(path: Path) -> bool:
    """Return whether ``path`` is a folder with a run config in it."""
    return (path / CONFIG_FILE).is_file()


def resolve_target(path: Path) -> tuple[Run | None, list[RunRow]]:
    """Open ``path`` as one run, or collect the runs of a folder.

    Returns:
        (run, []) for a run folder, (None, rows) for a folder of runs.

    Raises:
        RunError: the path does not exist, or is neither a run nor a folder holding runs.
    """
    if not path.is_dir() or is_run_folder(path):
        return Run.open(path), []
    rows = collect_rows(path)
    if rows:
        return None, rows
    if any(path.iterdir()):
        raise RunError(
            f"{path} is not a run: it has no {CONFIG_FILE}, and none of its sub-folders is a "
            f"run: pass a run folder such as runs/NAME, or the folder that holds runs"
        )
    raise RunError(no_runs_message(path))


def _describe_task(task: dict[str, Any]) -> str:
    """Return ``a + b mod 113 (group order n = 113)``, or the raw values if they are invalid."""
    try:
        description = Task(task["op"], task["p"]).describe()
    except (KeyError, TypeError, ValueError):
        return f"op {task.get('op')!r}, p {task.get('p')!r}"
    return f"{description} (group order n = {task.get('n')})"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def summary_text(summary: RunSummary, checkpoint_errors: dict[int, str]) -> str:
    """Return the plain-text summary of a run.

    Args:
        summary: the run's summary.
        checkpoint_errors: step -> problem for checkpoints whose weights cannot be read.
    """
    config = summary.config
    lines = [
        f"run              {summary.name}",
        f"path             {summary.path}",
        f"task             {_describe_task(summary.task)}",
        f"status           {summary.state} at step {summary.step} of {config.get('steps')}",
    ]
    if summary.message:
        lines.append(f"message          {summary.message}")
    lines.append(f"trained on       {summary.device or '-'}")
    lines.append("config")
    lines += [f"  {key:<17}{_number(value)}" for key, value in config.items()]

    final = summary.final
    if final:
        lines.append(
            f"final            step {final.get('step')}: train acc "
            f"{_percent(final.get('train_acc'))}, test acc {_percent(final.get('test_acc'))}, "
            f"train loss {_number(final.get('train_loss'))}, test loss "
            f"{_number(final.get('test_loss'))}, ε_eq {_number(final.get('eps_eq'))}, "
            f"certified test {_number(final.get('certified_test'))}"
        )
        lines.append(
            f"best             test acc {_percent(summary.best_test_acc)} at step "
            f"{summary.best_test_acc_step}, min test loss {_number(summary.min_test_loss)} "
            f"at step {summary.min_test_loss_step}"
        )
    else:
        lines.append("final            no metrics records yet")

    if summary.grok_step is None:
        lines.append(f"grokked          no (test accuracy never reached {GROK_THRESHOLD})")
    else:
        at_grok = summary.at_grok or {}
        lines.append(
            f"grokked          at step {summary.grok_step} (test accuracy >= {GROK_THRESHOLD}): "
            f"ε_eq {_number(at_grok.get('eps_eq'))}, ε_top {_number(at_grok.get('eps_top'))}, "
            f"ρ median {_number(at_grok.get('rho_median'))}, ρ max "
            f"{_number(at_grok.get('rho_max'))}, certified test "
            f"{_number(at_grok.get('certified_test'))}, γ* {_number(at_grok.get('margin'))}"
        )
    frequencies = ", ".join(str(k) for k in summary.top_frequencies) or "-"
    lines.append(f"top frequencies  {frequencies}")

    lines.append(f"checkpoints      {len(summary.checkpoints)}")
    for checkpoint in summary.checkpoints:
        step = checkpoint["step"]
        note = checkpoint_errors.get(step, "")
        lines.append(
            f"  step {step:>8}  test acc {_percent(checkpoint['test_acc'])}"
            + (f"  ({note})" if note else "")
        )
    return "\n".join(lines)


def checkpoint_errors(run: Run, summary: RunSummary) -> dict[int, str]:
    """Return step -> problem for each listed checkpoint whose weights file is unreadable."""
    errors = {}
    for checkpoint in summary.checkpoints:
        problem = checkpoint_problem(run, checkpoint["step"])
        if problem:
            errors[checkpoint["step"]] = problem
    return errors


def _row_as_json(row: RunRow) -> dict[str, Any]:
    """Return a folder entry for --json: the summary, or name, path, status and problems."""
    if row.summary is not None:
        return row.summary.to_dict()
    return {"name": row.name, "path": str(row.path), "state": UNREADABLE, "problems": row.problems}


def _print_run(run: Run, as_json: bool) -> bool:
    """Print one run's summary as text or JSON and its problems on stderr; return if any."""
    summary = summarize_run(run)
    errors = checkpoint_errors(run, summary)
    summary.problems.extend(errors.values())
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        typer.echo(summary_text(summary, errors))
    for problem in summary.problems:
        typer.echo(f"warning: {problem}", err=True)
    return bool(summary.problems)


def _print_folder(rows: list[RunRow], as_json: bool) -> bool:
    """Print the runs of a folder as a JSON list or a plain table and problems on stderr.

    Returns whether any run had a problem.
    """
    if as_json:
        typer.echo(json.dumps([_row_as_json(row) for row in rows], indent=2))
    else:
        typer.echo(plain_table(rows))
    print_problems(rows)
    return any(row.problems for row in rows)


def inspect_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A run folder (runs/NAME) or a folder of runs.")
    ] = Path("runs"),
    print_summary: Annotated[
        bool, typer.Option("--print", help="Print a plain-text summary instead of the app.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (a list for a folder).")
    ] = False,
) -> None:
    """Explore a saved run or a folder of runs, or print their summary."""
    try:
        run, rows = resolve_target(path)
        if as_json or print_summary or not sys.stdout.isatty():
            if run is not None:
                had_problems = _print_run(run, as_json)
            else:
                had_problems = _print_folder(rows, as_json)
            if had_problems:
                raise typer.Exit(USAGE_ERROR)
            return
    except RunError as error:
        fail(str(error))

    from grok_tui.inspect_app import run_inspect_app

    raise typer.Exit(run_inspect_app(path, is_run=run is not None))
