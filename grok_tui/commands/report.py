"""The ``report`` command: a Markdown and JSON report on runs, with expectations for CI.

Exit codes: 2 for invalid arguments or input that cannot be read, including a readable run
with an unreadable metrics line, checkpoint or status file; 1 when an expectation failed or
the run trained by --train diverged; 0 otherwise. A damaged run exits 2 even when an
expectation also failed, because its verdicts rest on incomplete data. The full report is
written before either code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from engine.config import resolve_config
from engine.runs import CONFIG_FILE, Run, RunError, default_run_name, list_runs
from grok_tui.commands.train import TRAIN_HELP, train_command
from grok_tui.errors import USAGE_ERROR, fail
from grok_tui.logs import root_handlers_replaced
from grok_tui.report import Expectations, Report, build_report, render_markdown, report_to_json
from grok_tui.textcharts import MIN_WIDTH

EXIT_EXPECTATION_FAILED = 1
EXIT_RUN_PROBLEM = USAGE_ERROR  # a damaged run is bad input, like an invalid argument
MAX_WIDTH = 400

REPORT_HELP = """Report on runs as Markdown, and fail when a run misses an expectation.

Give run folders, or folders of runs. The report lists per run its config, status, final and
best metrics, the grok step with ε_eq and ρ there, the top frequencies and text charts, and
compares several runs. It goes to stdout, to --out FILE, and is appended to the file named by
GITHUB_STEP_SUMMARY when that variable is set.

With --train, the other arguments are train options instead of run folders: the command
trains a fresh run headless first, as 'grok-tui train --headless' would, with its progress on
stderr, then reports on it. --out names the report file, so give the runs folder of the new
run with --train-out. Example: grok-tui report --train --p 59 --steps 3000 --expect-grok.

Problems reading a run (an unreadable metrics line, checkpoint or status file) are listed in
the report and printed as warnings on stderr. Exit code 0 when every expectation passed, 1
when one failed (or the run trained by --train diverged), 2 for invalid arguments, unreadable
runs, or any problem reading a run; 2 takes precedence over 1. The full report is written
in every case except invalid arguments and runs that cannot be opened.
"""


def report_command(
    ctx: typer.Context,
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="RUN...",
            help="Run folders, or folders of runs; with --train, train options such as --p 59.",
            show_default=False,
        ),
    ] = None,
    train: Annotated[
        bool, typer.Option("--train", help="Train a fresh run first; see the text above.")
    ] = False,
    train_out: Annotated[
        Path | None,
        typer.Option(help="Folder for the run trained by --train (train's --out). [default: runs]"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the Markdown to this file (UTF-8) instead of stdout."),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the report as JSON to this file."),
    ] = None,
    width: Annotated[
        int,
        typer.Option(min=MIN_WIDTH, max=MAX_WIDTH, help="Width of the text charts, in characters."),
    ] = 100,
    ascii_only: Annotated[
        bool,
        typer.Option(
            "--ascii",
            help="Write only ASCII characters. Automatic on stdout when its encoding cannot "
            "encode Unicode.",
        ),
    ] = False,
    expect_grok: Annotated[
        bool,
        typer.Option(help="Fail unless every run's test accuracy reached 0.99."),
    ] = False,
    expect_bounds: Annotated[
        bool,
        typer.Option(
            help="Fail if any record of any run has a certified bound below its measured gap "
            "(acc_gap_bound < acc_gap or loss_gap_bound < loss_gap, tolerance 1e-9).",
        ),
    ] = False,
    expect_max_steps: Annotated[
        int | None,
        typer.Option(min=0, help="Fail unless every run grokked by this step."),
    ] = None,
) -> None:
    """Report on runs as Markdown and JSON; exit 1 when an expectation fails, 2 on bad input."""
    arguments = list(arguments or [])
    _check_output_paths(out, json_file)
    train_code = 0
    if train:
        trained_path, train_code = _train_fresh_run(ctx, arguments, train_out)
        run_paths = [trained_path]
    else:
        if train_out is not None:
            fail("--train-out sets the folder of the run trained by --train: add --train")
        run_paths = _expand_run_arguments(arguments)

    expectations = Expectations(expect_grok, expect_bounds, expect_max_steps)
    try:
        runs = [Run.open(path) for path in run_paths]
        # every warning the engine logs while reading a run is also one of its problems,
        # which are printed below, so the log lines would repeat them
        with root_handlers_replaced(logging.NullHandler()):
            report = build_report(runs, expectations)
    except RunError as error:
        fail(str(error))

    _write_outputs(report, out, json_file, width, ascii_only)
    for result in report.expectations:
        if not result.passed:
            message = f"expectation failed: --{result.name} on run {result.run}: {result.reason}"
            typer.echo(message, err=True)
    for problem in report.problems:
        typer.echo(f"warning: {problem}", err=True)
    if report.problems:
        raise typer.Exit(EXIT_RUN_PROBLEM)
    if not report.passed or train_code == EXIT_EXPECTATION_FAILED:
        raise typer.Exit(EXIT_EXPECTATION_FAILED)


# run arguments


def _expand_run_arguments(arguments: list[str]) -> list[Path]:
    """Turn the arguments into run folders: a folder of runs expands to the runs inside it."""
    if not arguments:
        fail("missing RUN: give one or more run folders or folders of runs, or --train")
    paths: list[Path] = []
    for argument in arguments:
        if argument.startswith("-"):
            fail(
                f"unknown option {argument!r}: train options such as --p need --train; see "
                f"'grok-tui report --help'"
            )
        path = Path(argument)
        if path.is_dir() and not (path / CONFIG_FILE).exists():
            try:
                inside = list_runs(path)
            except RunError as error:
                fail(str(error))
            if not inside:
                fail(
                    f"{path} is not a run and holds no runs: it has no {CONFIG_FILE} and no "
                    f"sub-folder with one"
                )
            paths += [run.path for run in inside]
        else:
            paths.append(path)  # Run.open reports a missing or broken folder
    return paths


def _check_output_paths(out: Path | None, json_file: Path | None) -> None:
    """Reject output paths that are folders before any work is done."""
    if out is not None and out.is_dir():
        fail(
            f"--out {out} is a folder, but --out names the Markdown file: give a file name; "
            f"with --train, set the runs folder with --train-out"
        )
    if json_file is not None and json_file.is_dir():
        fail(f"--json {json_file} is a folder: give a file name such as report.json")


# training under report


def _train_parser() -> TyperCommand:
    """Return the parser of ``grok-tui train``, built from the train command itself."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command("train", help=TRAIN_HELP)(train_command)
    return typer.main.get_command(app)


def _default_name(params: dict) -> str | None:
    """Return the run name ``train`` would choose, or None when its options are invalid."""
    try:
        config = resolve_config(
            params["preset"].value,
            p=params["p"],
            op=params["op"].value if params["op"] else None,
            model=params["model"].value if params["model"] else None,
            seed=params["seed"],
        )
    except (ValueError, TypeError):
        return None  # train itself reports the invalid value
    return default_run_name(config)


def _usage_message(error: typer.TyperException) -> str:
    """Return a usage error's message with the option it concerns, as Typer prints it."""
    format_message = getattr(error, "format_message", None)
    return format_message() if callable(format_message) else str(error)


def _train_fresh_run(
    ctx: typer.Context, arguments: list[str], train_out: Path | None
) -> tuple[Path, int]:
    """Train a run with ``train``'s own options and checks, headless.

    The train command parses and validates ``arguments``; its output goes to stderr so that
    stdout carries only the report. Invalid options exit with code 2, as ``train`` does.

    Returns:
        The run folder, and train's exit code: 0, or 1 when the run diverged.
    """
    command = _train_parser()
    try:
        train_ctx = command.make_context("grok-tui report --train", arguments, parent=ctx)
    except typer.TyperException as error:  # a usage error: unknown option, invalid value
        fail(f"invalid train option: {_usage_message(error)}")

    params = train_ctx.params
    params["headless"] = True
    if train_out is not None:
        params["out"] = train_out
    if params["p"] is not None and params["resume"] is None and params["name"] is None:
        # name the run here, as train would, to know which folder to report on
        params["name"] = _default_name(params)

    code = 0
    with train_ctx, contextlib.redirect_stdout(sys.stderr):
        try:
            command.invoke(train_ctx)
        except typer.Exit as error:
            code = error.exit_code
    if code not in (0, EXIT_EXPECTATION_FAILED):
        raise typer.Exit(code)  # train printed why
    if params["resume"] is not None:
        return params["resume"], code
    if params["name"] is None:  # train accepted options that _default_name rejected
        fail("cannot tell which run --train created: give it a name with --name")
    return params["out"] / params["name"], code


# output


def _stdout_is_unicode() -> bool:
    """Return whether stdout's encoding can write the report's Greek letters and chart frames."""
    try:
        "ε ρ γ* ┌─┐│".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _write_text(path: Path, text: str, what: str, append: bool = False) -> None:
    """Write or append UTF-8 text, failing with a message that names the file."""
    try:
        with open(path, "a" if append else "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        fail(f"cannot write the {what} to {path}: {error.strerror or error}")


def _write_outputs(
    report: Report, out: Path | None, json_file: Path | None, width: int, ascii_only: bool
) -> None:
    """Write the Markdown (stdout or --out), the JSON and the GitHub step summary."""
    if json_file is not None:
        _write_text(json_file, report_to_json(report), "JSON report")
    if out is not None:
        _write_text(out, render_markdown(report, width, ascii_only), "report")
    else:
        stdout_ascii = ascii_only or not _stdout_is_unicode()
        sys.stdout.write(render_markdown(report, width, stdout_ascii))
        sys.stdout.flush()

    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        markdown = render_markdown(report, width, ascii_only)
        _write_text(Path(summary_file), markdown, "GitHub step summary", append=True)
