"""The ``grok-tui`` command line: a Typer app whose subcommands live in grok_tui.commands."""

from __future__ import annotations

import logging

import typer

from grok_tui.commands.geometry import geometry_command
from grok_tui.commands.inspect import INSPECT_HELP, inspect_command
from grok_tui.commands.report import REPORT_HELP, report_command
from grok_tui.commands.runs import runs_command
from grok_tui.commands.train import TRAIN_HELP, train_command

app = typer.Typer(
    name="grok-tui",
    help="A terminal explorer for grokking on modular arithmetic.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("train", help=TRAIN_HELP)(train_command)
app.command("geometry", help="Show the geometry of a task before training.")(geometry_command)
app.command("report", help=REPORT_HELP, context_settings={"ignore_unknown_options": True})(
    report_command
)
app.command("inspect", help=INSPECT_HELP)(inspect_command)
app.command("runs", help="List the runs in a folder as a table.")(runs_command)


@app.callback()
def _show_help_without_command(context: typer.Context) -> None:
    """Print the help and exit 0 when no command is given."""
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())
        raise typer.Exit(0)


def main() -> None:
    """Run the command line (the console script and ``python -m grok_tui``)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app(prog_name="grok-tui")
