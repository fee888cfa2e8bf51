"""The checkpoint scrubber: a list of saved checkpoints and the energy plot of the chosen one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot


def _step_of(option_id: str | None) -> int | None:
    return int(option_id) if option_id is not None else None


class CheckpointList(OptionList):
    """The saved checkpoints of a run, one line each: step and test accuracy.

    Moving the highlight or pressing enter posts ``CheckpointList.Chosen``. A checkpoint that
    failed to load keeps its line, marked as unreadable, so the others stay reachable.
    """

    DEFAULT_CSS = """
    CheckpointList {
        height: 1fr;
        min-width: 22;
    }
    """

    class Chosen(Message):
        """The user moved to the checkpoint at ``step``."""

        def __init__(self, step: int) -> None:
            """Create the message.

            Args:
                step: the step of the chosen checkpoint.
            """
            super().__init__()
            self.step = step

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty list.

        Args:
            id: the widget id.
        """
        super().__init__(id=id)
        self.border_title = "step, test acc"
        self.checkpoints: dict[int, float | None] = {}  # step -> test accuracy
        self.errors: dict[int, str] = {}  # step -> why it cannot be loaded

    def set_checkpoints(self, checkpoints: list[dict[str, Any]]) -> None:
        """Add the checkpoints not listed yet, keeping the highlight where it is.

        Args:
            checkpoints: ``{"step", "test_acc"}`` dicts, as in a run summary.
        """
        new = [c for c in checkpoints if c["step"] not in self.checkpoints]
        changed = [
            c for c in checkpoints
            if c["step"] in self.checkpoints and self.checkpoints[c["step"]] != c["test_acc"]
        ]
        for checkpoint in new + changed:
            self.checkpoints[checkpoint["step"]] = checkpoint["test_acc"]
        for checkpoint in changed:
            self.replace_option_prompt(str(checkpoint["step"]), self._prompt(checkpoint["step"]))
        if new:
            self.add_options(
                Option(self._prompt(c["step"]), id=str(c["step"]))
                for c in sorted(new, key=lambda c: c["step"])
            )

    def mark_error(self, step: int, message: str) -> None:
        """Mark the checkpoint at ``step`` as unreadable because of ``message``."""
        self.errors[step] = message
        if step in self.checkpoints:
            self.replace_option_prompt(str(step), self._prompt(step))

    @property
    def highlighted_step(self) -> int | None:
        """The step of the highlighted checkpoint, or None."""
        if self.highlighted is None:
            return None
        return _step_of(self.get_option_at_index(self.highlighted).id)

    def _prompt(self, step: int) -> Text:
        """Return the literal line of one checkpoint."""
        if step in self.errors:
            return Text(f"{step:>7} unreadable", style="bold red")
        accuracy = self.checkpoints.get(step)
        accuracy_text = "-" if accuracy is None else f"{accuracy:.3f}"
        return Text(f"{step:>7}  {accuracy_text}")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Post ``Chosen`` for the newly highlighted checkpoint."""
        event.stop()
        step = _step_of(event.option.id)
        if step is not None:
            self.post_message(self.Chosen(step))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Post ``Chosen`` again on enter, so that a failed load can be retried."""
        event.stop()
        step = _step_of(event.option.id)
        if step is not None:
            self.post_message(self.Chosen(step))


class FrequencyEnergyPlot(PlotextPlot):
    """Energy per frequency k >= 1 of the embedding and unembedding, and the profile power.

    Each series is renormalised over k >= 1, so the three share one scale of fractions. Each
    has its own marker as well as its own colour, so they stay apart without colour.
    """

    DEFAULT_CSS = """
    FrequencyEnergyPlot {
        height: 9;
    }
    """

    SERIES = (
        ("embedding_energy", "embedding", "e", "blue"),
        ("unembedding_energy", "unembedding", "u", "red"),
        ("profile_power", "profile power", "p", "green"),
    )  # (record key, legend label, marker, colour)

    def __init__(self, *, id: str | None = None) -> None:
        """Create an empty plot.

        Args:
            id: the widget id.
        """
        super().__init__(id=id)
        self.record: dict[str, Any] | None = None

    def set_record(self, record: dict[str, Any] | None) -> None:
        """Plot the per-frequency lists of ``record``, or nothing for None."""
        self.record = record
        self.refresh()

    def render(self):
        """Draw one line per series over k = 1..n//2."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self.record is None:
            plt.title("energy per frequency: choose a checkpoint")
            return super().render()

        highest = 0
        for key, label, marker, colour in self.SERIES:
            fractions = renormalised_without_dc(self.record.get(key) or [])
            if fractions:
                highest = max(highest, len(fractions))
                frequencies = list(range(1, len(fractions) + 1))
                plt.plot(frequencies, fractions, marker=marker, color=colour, label=label)
        plt.ylim(0, None)
        plt.title(f"energy fraction per frequency k = 1..{highest}")
        return super().render()


def renormalised_without_dc(values: list[float]) -> list[float]:
    """Return ``values[1:]`` divided by their sum (all zeros when the sum is not positive)."""
    rest = [float(value) for value in values[1:]]
    total = sum(rest)
    if total <= 0:
        return [0.0 for _ in rest]
    return [value / total for value in rest]
