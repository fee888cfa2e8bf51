"""The status bar of a run: what is trained where, how far it is, and its latest metrics."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from engine.config import TrainConfig
from engine.metrics import GROK_THRESHOLD

# style of each run state, which is always written out as a word, so colour only repeats it
STATE_STYLES = {
    "starting": "bold",
    "training": "bold green",
    "paused": "bold yellow",
    "stopping": "bold yellow",
    "quitting": "bold yellow",
    "stopped": "bold",
    "finished": "bold green",
    "diverged": "bold red",
    "failed": "bold red",
    "replay": "bold",
}


def format_duration(seconds: float) -> str:
    """Format seconds as m:ss, or h:mm:ss from an hour on."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


class TrainingStatus(Widget):
    """Three lines: the run, its progress, and its latest accuracies with ε_eq and grok step.

    Run names, config values and messages are shown literally: no Rich markup is parsed.
    """

    DEFAULT_CSS = """
    TrainingStatus {
        height: 3;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, config: TrainConfig, run_name: str, device: str, **kwargs: Any) -> None:
        """Create the status of a run.

        Args:
            config: the run's config (task, model, preset, step budget).
            run_name: the run folder name, shown literally.
            device: the device it trains on.
        """
        super().__init__(**kwargs)
        self.config = config
        self.run_name = run_name
        self.device = device
        self.state = "starting"
        self.state_detail = ""
        self.step = 0
        self.elapsed = 0.0
        self.steps_per_second: float | None = None
        self.record: dict[str, Any] | None = None
        self.grok_step: int | None = None

    def show_progress(self, step: int, elapsed: float, steps_per_second: float | None) -> None:
        """Show the step reached, seconds of training and the current rate."""
        self.step = step
        self.elapsed = elapsed
        self.steps_per_second = steps_per_second
        self.refresh()

    def show_record(self, record: dict[str, Any]) -> None:
        """Show a record, and its step as the grok step if it is the first to grok."""
        self.record = record
        self.step = max(self.step, record["step"])
        if self.grok_step is None and record["test_acc"] >= GROK_THRESHOLD:
            self.grok_step = record["step"]
        self.refresh()

    def show_state(self, state: str, detail: str = "") -> None:
        """Show the run state (training, paused, stopped, diverged, ...) and an optional detail."""
        self.state = state
        self.state_detail = detail
        self.refresh()

    def render(self) -> Text:
        """Render the three status lines."""
        return Text("\n").join([self._run_line(), self._progress_line(), self._metrics_line()])

    def _run_line(self) -> Text:
        config = self.config
        return Text.assemble(
            (config.task.describe(), "bold"),
            f" · {config.model} ({config.preset}) · {self.device} · run ",
            (self.run_name, "italic"),
            no_wrap=True,
            overflow="ellipsis",
        )

    def _progress_line(self) -> Text:
        total = self.config.steps
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(self.state, style=STATE_STYLES.get(self.state, "bold"))
        if self.state_detail:
            line.append(f" ({self.state_detail})")
        line.append(f" · step {self.step} of {total} ({self.step / total:.0%})")
        if self.steps_per_second:
            line.append(f" · {self.steps_per_second:,.0f} steps/s")
        line.append(f" · {format_duration(self.elapsed)} elapsed")
        if self.steps_per_second and self.state in ("training", "paused") and self.step < total:
            remaining = (total - self.step) / self.steps_per_second
            line.append(f" · ~{format_duration(remaining)} left")
        return line

    def _metrics_line(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.record is None:
            line.append("no evaluation yet")
            return line
        record = self.record
        line.append(f"acc train {record['train_acc']:.3f} test {record['test_acc']:.3f}")
        line.append(f" · ε_eq {record['eps_eq']:.3f}")
        if self.grok_step is None:
            line.append(f" · not grokked (test acc < {GROK_THRESHOLD})")
        else:
            line.append(f" · grokked at step {self.grok_step}", style="bold")
        return line
