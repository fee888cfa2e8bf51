"""Headless training: a progress bar on a terminal, plain periodic lines otherwise, a summary."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from engine.metrics import GROK_THRESHOLD
from engine.training import Progress as TrainingProgress
from engine.training import TrainControl, TrainResult, train
from grok_tui.commands.train import PreparedRun

EXIT_OK = 0
EXIT_DIVERGED = 1
LINES_PER_RUN = 20  # plain output prints about this many progress lines per run


@contextmanager
def _stop_on_interrupt(control: TrainControl) -> Iterator[None]:
    """Turn the first Ctrl+C into a stop request (checkpoint saved); a second one interrupts."""
    previous = signal.getsignal(signal.SIGINT)

    def handle(signum: int, frame: Any) -> None:
        if control.stop_requested:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        control.request_stop()

    installed = True
    try:
        signal.signal(signal.SIGINT, handle)
    except ValueError:  # not the main thread
        installed = False
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGINT, previous)


def format_record(record: dict[str, Any]) -> str:
    """Return one plain progress line for a metrics record."""
    return (
        f"step {record['step']:>7}  train acc {record['train_acc']:.4f}  "
        f"test acc {record['test_acc']:.4f}  train loss {record['train_loss']:.3g}  "
        f"test loss {record['test_loss']:.3g}  eps_eq {record['eps_eq']:.3f}  "
        f"certified {record['certified_test']:.3f}"
    )


def summary_lines(result: TrainResult) -> list[str]:
    """Return the end-of-run summary: state, steps, final accuracies, grok step, run folder."""
    lines = [f"run       {result.run.path if result.run else '(not saved)'}"]
    rate = result.step / result.elapsed if result.elapsed > 0 else 0.0
    lines.append(
        f"status    {result.state} at step {result.step} "
        f"({result.elapsed:.1f} s of training, {rate:.0f} steps/s, {result.device})"
    )
    if result.records:
        final = result.records[-1]
        lines.append(f"train     acc {final['train_acc']:.4f}  loss {final['train_loss']:.4g}")
        lines.append(f"test      acc {final['test_acc']:.4f}  loss {final['test_loss']:.4g}")
    grokked = result.grok_step
    if grokked is None:
        lines.append(f"grokked   no (test accuracy never reached {GROK_THRESHOLD})")
    else:
        lines.append(f"grokked   at step {grokked} (test accuracy >= {GROK_THRESHOLD})")
    if result.message:
        lines.append(f"note      {result.message}")
    return lines


def train_headless(prepared: PreparedRun, console: Console | None = None) -> int:
    """Train a prepared run without the app and return the exit code (0 ok, 1 diverged)."""
    console = console or Console(highlight=False, soft_wrap=True)
    control = TrainControl()
    config = prepared.config
    verb = "resuming" if prepared.resume else "training"
    console.print(
        f"{verb} {config.task.describe()} with {config.model} ({config.preset}) on "
        f"{prepared.device}: {config.steps} steps, run folder {prepared.run.path}",
        markup=False,
    )

    with _stop_on_interrupt(control):
        if console.is_terminal:
            result = _train_with_bar(prepared, control, console)
        else:
            result = _train_with_lines(prepared, control, console)

    for line in summary_lines(result):
        console.print(line, markup=False)
    return EXIT_DIVERGED if result.state == "diverged" else EXIT_OK


def _train_with_lines(prepared: PreparedRun, control: TrainControl, console: Console):
    """Train, printing a line about every 1/LINES_PER_RUN of the steps and at the grok step."""
    interval = max(1, prepared.config.steps // LINES_PER_RUN)
    state = {"next": 0, "grokked": False}

    def on_record(record: dict[str, Any]) -> None:
        grokked_now = not state["grokked"] and record["test_acc"] >= GROK_THRESHOLD
        if record["step"] >= state["next"] or grokked_now:
            console.print(format_record(record), markup=False)
            state["next"] = (record["step"] // interval + 1) * interval
        state["grokked"] = state["grokked"] or grokked_now

    return train(
        prepared.config, prepared.run, resume=prepared.resume, control=control, on_record=on_record
    )


def _train_with_bar(prepared: PreparedRun, control: TrainControl, console: Console):
    """Train under a Rich progress bar showing step, accuracies and ε_eq."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task_id = bar.add_task("training", total=prepared.config.steps, status="")

        def on_record(record: dict[str, Any]) -> None:
            status = (
                f"train {record['train_acc']:.3f}  test {record['test_acc']:.3f}  "
                f"eps_eq {record['eps_eq']:.3f}"
            )
            bar.update(task_id, completed=record["step"], status=status)

        def on_progress(progress: TrainingProgress) -> None:
            bar.update(task_id, completed=progress.step)

        return train(
            prepared.config,
            prepared.run,
            resume=prepared.resume,
            control=control,
            on_record=on_record,
            on_progress=on_progress,
        )


def stdout_is_terminal() -> bool:
    """Return whether stdout is an interactive terminal."""
    return sys.stdout.isatty()
