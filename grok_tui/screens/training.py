"""The live training screen: trains in a thread worker and draws each record as it arrives.

The worker calls ``engine.training.train`` exactly as headless training does, so the run folder
is the same. It never touches a widget: it posts messages, which ``post_message`` delivers
thread-safely to the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from engine.config import TrainConfig
from engine.training import Progress, TrainControl, TrainResult, train
from grok_tui.commands.train import PreparedRun
from grok_tui.widgets.panes import MetricsPanes
from grok_tui.widgets.size_notice import MinimumSize, SizeNotice
from grok_tui.widgets.status import TrainingStatus

EXIT_OK = 0
EXIT_FAILED = 1  # the run diverged, or training raised an error

# help text of each action, longer than its footer label
ACTION_HELP = {
    "toggle_pause": "pause or resume training (takes effect at the next step)",
    "stop": "stop training and save a checkpoint, and keep the explorer open",
    "toggle_log_axis": "switch the step axes between log and linear",
    "cycle_heatmap": "heatmap source: embedding, unembedding, logit profile",
    "browse_runs": "open the run browser (escape returns here)",
    "help": "show this help",
    "quit": "stop training, save a checkpoint, then quit",
}
# how to read the charts without colour
CHART_HELP = (
    ("o  x", "train and test (loss in nats, accuracy)"),
    ("a  A", "accuracy gap (test minus train error) and its certified bound"),
    ("l  L", "loss gap and its certified bound, in nats on the right axis"),
    ("o  x", "median and max ρ over test inputs, where ρ < 1 is certified correct"),
    (" .:-=+*#%@", "heatmap: energy share of frequency k, from none to the largest shown"),
)


@dataclass(frozen=True)
class Replay:
    """Recorded metrics to show without training, for tests and snapshots.

    The status bar takes its elapsed time and rate from the last record's ``time``, so a replay
    draws the same screen every time.
    """

    config: TrainConfig
    records: list[dict[str, Any]] = field(default_factory=list)
    run_name: str = "replay"
    device: str = "cpu"


class RecordAdded(Message):
    """A metrics record from the training thread."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__()
        self.record = record


class ProgressMade(Message):
    """A progress report from the training thread, at most every 0.2 s."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class TrainingEnded(Message):
    """The training thread returned a result or raised an error."""

    def __init__(self, result: TrainResult | None, error: Exception | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class HelpScreen(ModalScreen[None]):
    """A list of the training screen's keys; escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen #chart-help {
        margin-top: 1;
    }
    HelpScreen > Vertical {
        width: 80;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close")]

    def __init__(self, bindings: list[Binding]) -> None:
        """Create the help for ``bindings``."""
        super().__init__()
        self.key_bindings = bindings

    def compose(self) -> ComposeResult:
        """Compose the table of keys."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for binding in self.key_bindings:
            keys = " or ".join(_key_name(key) for key in binding.key.split(","))
            table.add_row(keys, ACTION_HELP.get(binding.action, binding.description))
        charts = Table.grid(padding=(0, 2))
        charts.add_column(style="bold")
        charts.add_column()
        for markers, meaning in CHART_HELP:
            charts.add_row(markers, meaning)
        with Vertical() as box:
            box.border_title = "keys and charts"
            yield Static(table)
            yield Static(charts, id="chart-help")
            yield Static(Text("escape closes this help", style="dim"))


def _key_name(key: str) -> str:
    """Return how a Textual key name is typed: space, ?, q."""
    return {"question_mark": "?"}.get(key, key)


class TrainingScreen(MinimumSize, Screen[None]):
    """Trains a prepared run, or replays recorded metrics, and draws the metrics panes.

    Args:
        prepared: the run to train, as the ``train`` command prepared it.
        replay: recorded metrics to show instead, without training.
    """

    DEFAULT_CSS = """
    TrainingScreen #banner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error;
        color: $text;
    }
    TrainingScreen #banner.-shown {
        display: block;
    }
    TrainingScreen > ToastRack {
        /* notifications stack above the status bar (3 lines) and the footer, not over them */
        margin-bottom: 4;
    }
    TrainingScreen.-too-small MetricsPanes, TrainingScreen.-too-small TrainingStatus {
        display: none;
    }
    """

    MIN_WIDTH = 60
    MIN_HEIGHT = 20
    BINDINGS = [
        Binding("space,p", "toggle_pause", "pause/resume", key_display="space"),
        Binding("s", "stop", "stop"),
        Binding("l", "toggle_log_axis", "log/linear"),
        Binding("h", "cycle_heatmap", "heatmap"),
        Binding("b", "browse_runs", "runs"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, prepared: PreparedRun | None = None, replay: Replay | None = None) -> None:
        """Create the screen for exactly one of ``prepared`` and ``replay``."""
        if (prepared is None) == (replay is None):
            raise ValueError("TrainingScreen needs exactly one of prepared and replay")
        super().__init__()
        self.prepared = prepared
        self.replay = replay
        self.control = TrainControl()
        self.training = False  # True from the worker's start until TrainingEnded arrives
        self.result: TrainResult | None = None
        self.error_message = ""  # why training raised an error, when it did
        self.exit_code = EXIT_OK
        self._quit_when_ended = False

    @property
    def config(self) -> TrainConfig:
        """The config of the run trained or replayed."""
        return self.prepared.config if self.prepared else self.replay.config

    def compose(self) -> ComposeResult:
        """Compose the error banner, the panes, the size notice, the status bar and the footer."""
        if self.prepared is not None:
            run_name, device = self.prepared.run.name, self.prepared.device
            records = self._resumed_records(self.prepared) if self.prepared.resume else []
        else:
            run_name, device, records = self.replay.run_name, self.replay.device, []
        yield Static(id="banner")
        yield MetricsPanes(records, id="panes")
        yield SizeNotice(id="size-notice")
        yield TrainingStatus(self.config, run_name, device, id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Start training, or show the replayed records."""
        if self.replay is not None:
            self._show_records(self.replay.records)
            self.query_one(TrainingStatus).show_state("replay")
            return
        self._show_records(self.query_one(MetricsPanes).records)  # kept by a resume
        self.training = True
        self.query_one(TrainingStatus).show_state("training")
        self._train()

    def on_unmount(self) -> None:
        """Stop training when the screen goes away, so the app can exit after the checkpoint.

        The worker thread runs in the event loop's executor, which the loop joins on exit.
        """
        self.control.request_stop()

    def on_record_added(self, message: RecordAdded) -> None:
        """Draw a new record."""
        self.query_one(MetricsPanes).add_record(message.record)
        self.query_one(TrainingStatus).show_record(message.record)

    def on_progress_made(self, message: ProgressMade) -> None:
        """Show the step, elapsed time and rate."""
        progress = message.progress
        self.query_one(TrainingStatus).show_progress(
            progress.step, progress.elapsed, progress.steps_per_second
        )

    def on_training_ended(self, message: TrainingEnded) -> None:
        """Show how training ended; quit if a quit is waiting for it."""
        self.training = False
        status = self.query_one(TrainingStatus)
        if message.error is not None:
            self.exit_code = EXIT_FAILED
            step = status.step
            text = f"training failed at step {step}: {type(message.error).__name__}: "
            self.error_message = text + str(message.error)
            self.log.error(self.error_message)
            self._show_banner(text + str(message.error))
            status.show_state("failed", f"at step {step}")
            self.notify(text + str(message.error), severity="error", markup=False, timeout=10)
        else:
            self._show_result(message.result)
        if self._quit_when_ended:
            self.app.exit(return_code=self.exit_code)

    def action_toggle_pause(self) -> None:
        """Pause a running training, or resume a paused one."""
        if not self._require_training("pause"):
            return
        status = self.query_one(TrainingStatus)
        if self.control.paused:
            self.control.resume()
            status.show_state("training")
        else:
            self.control.pause()
            status.show_state("paused")

    def action_stop(self) -> None:
        """Ask training to save a checkpoint and stop; the screen stays open."""
        if not self._require_training("stop"):
            return
        self.control.request_stop()
        self.query_one(TrainingStatus).show_state("stopping", "saving a checkpoint")

    def action_toggle_log_axis(self) -> None:
        """Switch the step axes between log and linear."""
        panes = self.query_one(MetricsPanes)
        panes.toggle_log_axis()
        self.notify(f"step axis: {'log' if panes.log_axis else 'linear'}", timeout=2)

    def action_cycle_heatmap(self) -> None:
        """Show the next heatmap source."""
        panes = self.query_one(MetricsPanes)
        panes.cycle_heatmap_source()
        self.notify(f"heatmap: {panes.heatmap_source}", timeout=2)

    def action_browse_runs(self) -> None:
        """Open the run browser on the folder of this run, while training goes on."""
        try:
            from grok_tui.screens.browser import RunBrowserScreen
        except ImportError as error:
            self.log.warning(f"run browser import failed: {error}")
            self.notify("run browser not available", severity="warning")
            return
        folder = self.prepared.run.path.parent if self.prepared else Path("runs")
        self.app.push_screen(RunBrowserScreen(folder))

    def action_help(self) -> None:
        """Show the keys."""
        self.app.push_screen(HelpScreen(list(self.BINDINGS)))

    def action_quit(self) -> None:
        """Quit now if nothing trains, else stop (saving a checkpoint) and quit once saved."""
        if not self.training:
            self.app.exit(return_code=self.exit_code)
            return
        self._quit_when_ended = True
        self.control.request_stop()
        self.query_one(TrainingStatus).show_state("quitting", "saving a checkpoint")
        self.notify("saving a checkpoint, then quitting", timeout=10)

    @work(thread=True, exclusive=True, exit_on_error=False, name="training")
    def _train(self) -> None:
        """Train the prepared run in this worker thread, posting records, progress and the end."""
        prepared = self.prepared
        try:
            result = train(
                prepared.config,
                prepared.run,
                resume=prepared.resume,
                control=self.control,
                on_record=lambda record: self.post_message(RecordAdded(record)),
                on_progress=lambda progress: self.post_message(ProgressMade(progress)),
            )
        except Exception as error:  # shown on screen; the engine marks the run interrupted
            self.post_message(TrainingEnded(None, error))
            return
        self.post_message(TrainingEnded(result))

    def _show_result(self, result: TrainResult) -> None:
        """Show a finished, stopped or diverged result in the status bar, banner and a toast."""
        self.result = result
        status = self.query_one(TrainingStatus)
        mean_rate = result.step / result.elapsed if result.elapsed > 0 else None
        status.show_progress(result.step, result.elapsed, mean_rate)
        if result.state == "diverged":
            self.exit_code = EXIT_FAILED
            status.show_state("diverged", f"at step {result.step}")
            self._show_banner(f"diverged at step {result.step}: {result.message}")
            self.notify(result.message, title="diverged", severity="error", markup=False)
        elif result.state == "stopped":
            status.show_state("stopped", f"at step {result.step}, checkpoint saved")
            self.notify(f"stopped at step {result.step}; checkpoint saved", markup=False)
        else:
            status.show_state(result.state)
            self.notify(f"{result.state} at step {result.step}", markup=False)

    @staticmethod
    def _resumed_records(prepared: PreparedRun) -> list[dict[str, Any]]:
        """Return the saved records that a resume keeps: those up to the newest checkpoint.

        Training cuts the metrics log back to that checkpoint and continues from there, so
        later records would be drawn twice and out of step order.
        """
        checkpoints = prepared.run.checkpoint_steps()
        last_step = checkpoints[-1] if checkpoints else 0
        return [record for record in prepared.run.read_metrics() if record["step"] <= last_step]

    def _show_records(self, records: list[dict[str, Any]]) -> None:
        """Draw saved records, with elapsed time and rate taken from the last record."""
        self.query_one(MetricsPanes).set_records(records)
        status = self.query_one(TrainingStatus)
        for record in records:
            status.show_record(record)
        if records:
            last = records[-1]
            seconds = last.get("time") or 0.0
            rate = last["step"] / seconds if seconds > 0 else None
            status.show_progress(last["step"], seconds, rate)

    def _require_training(self, verb: str) -> bool:
        """Return whether training runs, and otherwise notify that there is nothing to ``verb``."""
        if self.training:
            return True
        self.notify(f"nothing to {verb}: training is not running", severity="warning")
        return False

    def _show_banner(self, message: str) -> None:
        """Show ``message`` literally in the banner above the panes."""
        banner = self.query_one("#banner", Static)
        banner.update(Text(message))
        banner.add_class("-shown")

    def size_notice_text(self, width: int, height: int) -> Text:
        """Return the notice shown while the terminal is too small, saying training goes on."""
        notice = super().size_notice_text(width, height)
        if self.training:
            notice.append("\ntraining continues meanwhile")
        return notice
