"""The ``runs`` command, and the run table it shares with the run browser."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.runs import Run, RunError, list_runs
from engine.summary import RunSummary, try_summarize
from grok_tui.errors import fail

UNREADABLE = "unreadable"  # status of a run whose config cannot be read

# (key, title) of each column, in display order: the outcome first, so that it fits in
# 80 columns next to a short name, then the task and hyperparameters
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("status", "status"),
    ("steps", "steps"),
    ("best_test_acc", "best acc"),
    ("grok_step", "grok"),
    ("eps_eq", "ε_eq"),
    ("op", "op"),
    ("p", "p"),
    ("model", "model"),
    ("train_fraction", "frac"),
    ("weight_decay", "wd"),
    ("seed", "seed"),
)
# "best acc" is the best test accuracy, "grok" the first step whose test accuracy reaches
# GROK_THRESHOLD, and "ε_eq" the value of the last record.
NUMERIC_COLUMNS = frozenset(
    {"p", "train_fraction", "weight_decay", "seed", "steps", "best_test_acc", "grok_step", "eps_eq"}
)
FILTERED_COLUMNS = ("name", "op", "model", "status")  # the text filter matches these


@dataclass
class RunRow:
    """One run as a table row: raw values for sorting, and the reason it is unreadable."""

    path: Path
    values: dict[str, Any]  # column key -> value; None where unknown
    problems: list[str] = field(default_factory=list)
    summary: RunSummary | None = None  # None for an unreadable run

    @property
    def name(self) -> str:
        """The run's folder name."""
        return self.path.name

    def cells(self) -> list[str]:
        """Return the display text of each column, in ``COLUMNS`` order."""
        return [format_value(key, self.values.get(key)) for key, _ in COLUMNS]

    def sort_key(self, column: str) -> tuple:
        """Return a key that orders rows by ``column``, unknown values last."""
        value = self.values.get(column)
        if column == "steps" and value is not None:
            value = value[0]
        if value is None:
            return (1, 0, "")
        if isinstance(value, str):
            return (0, 0, value.lower())
        return (0, value, "")

    def matches(self, text: str) -> bool:
        """Return whether ``text`` occurs, case-insensitively, in the name, op, model or status."""
        needle = text.strip().lower()
        return any(needle in str(self.values.get(key) or "").lower() for key in FILTERED_COLUMNS)


def format_value(column: str, value: Any) -> str:
    """Return the table text of one value, or '-' for an unknown value."""
    if value is None:
        return "-"
    if column == "steps":
        reached, budget = value
        return f"{reached}/{budget if budget is not None else '?'}"
    if column in ("best_test_acc", "eps_eq"):
        return f"{value:.3f}"
    if column in ("train_fraction", "weight_decay"):
        return f"{value:g}"
    return str(value)


def run_row(run: Run) -> RunRow:
    """Summarise one run as a row. An unreadable run gets the status 'unreadable'."""
    summary = try_summarize(run)
    if isinstance(summary, RunError):
        values = {key: None for key, _ in COLUMNS}
        values.update(name=run.name, status=UNREADABLE)
        return RunRow(run.path, values, [str(summary)])

    config = summary.config
    final = summary.final or {}
    values = {
        "name": summary.name,
        "op": config.get("op"),
        "p": config.get("p"),
        "model": config.get("model"),
        "train_fraction": config.get("train_fraction"),
        "weight_decay": config.get("weight_decay"),
        "seed": config.get("seed"),
        "steps": (summary.step, config.get("steps")),
        "status": summary.state,
        "best_test_acc": summary.best_test_acc,
        "grok_step": summary.grok_step,
        "eps_eq": final.get("eps_eq"),
    }
    return RunRow(run.path, values, list(summary.problems), summary)


def collect_rows(folder: Path) -> list[RunRow]:
    """Return a row for each run directly inside ``folder``, by name.

    Raises:
        RunError: the folder does not exist or is not a folder.
    """
    return [run_row(run) for run in list_runs(folder)]


def no_runs_message(folder: Path) -> str:
    """Return the message for a folder that contains no runs."""
    return f"no runs in {folder}: train one with grok-tui train --p 113 --out {folder}"


def rich_table(rows: list[RunRow]) -> Table:
    """Return the rows as a Rich table; every cell is literal text, never markup."""
    table = Table(highlight=False)
    for key, title in COLUMNS:
        table.add_column(title, justify="right" if key in NUMERIC_COLUMNS else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row.cells()))
    return table


def plain_table(rows: list[RunRow]) -> str:
    """Return the rows as plain text in aligned columns, one line per run plus a header."""
    lines = [[title for _, title in COLUMNS]] + [row.cells() for row in rows]
    widths = [max(len(line[index]) for line in lines) for index in range(len(COLUMNS))]
    text_lines = []
    for line in lines:
        padded = [
            cell.rjust(width) if key in NUMERIC_COLUMNS else cell.ljust(width)
            for cell, width, (key, _) in zip(line, widths, COLUMNS, strict=True)
        ]
        text_lines.append("  ".join(padded).rstrip())
    return "\n".join(text_lines)


def print_problems(rows: list[RunRow]) -> None:
    """Print each row's problems to stderr as ``warning: ...`` lines."""
    for row in rows:
        for problem in row.problems:
            typer.echo(f"warning: {problem}", err=True)


def runs_command(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Folder whose sub-folders are runs.")
    ] = Path("runs"),
) -> None:
    """List the runs in a folder: task, hyperparameters, status, best accuracy, grok step.

    Prints a table on a terminal and aligned plain text otherwise. Problems with single runs
    go to stderr as warnings. A missing or empty folder exits with code 2.
    """
    try:
        rows = collect_rows(folder)
    except RunError as error:
        fail(str(error))
    if not rows:
        fail(no_runs_message(folder))

    if sys.stdout.isatty():
        Console(highlight=False).print(rich_table(rows))
    else:
        typer.echo(plain_table(rows))
    print_problems(rows)
