"""Overlay of several runs: test accuracy, ε_eq, and accuracy gap against its bound."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from engine.runs import Run, RunError

# One marker and one colour per run. Markers are letters, so the legend reads without colour.
RUN_MARKERS = "abcdefghijklmnopqrstuvwxyz"
RUN_COLOURS = ("blue", "red", "green", "orange", "magenta", "cyan", "gray", "yellow")


def log_step(step: int) -> float:
    """Return the x position of ``step`` on the log step axis: log10(step + 1)."""
    return math.log10(step + 1)


def log_step_ticks(max_step: int) -> tuple[list[float], list[str]]:
    """Return x positions and labels for steps 0, 10, 100, ... up to ``max_step``.

    The step axis is drawn linear in log10(step + 1) with these hand-made ticks, because the
    log axes of plotext 5 fail when a plot is drawn a second time.
    """
    steps = [0]
    power = 10
    while power <= max(max_step, 10):
        steps.append(power)
        power *= 10
    labels = [_short_step(step) for step in steps]
    return [log_step(step) for step in steps], labels


def _short_step(step: int) -> str:
    if step >= 1_000_000:
        return f"{step // 1_000_000}M"
    if step >= 1000:
        return f"{step // 1000}k"
    return str(step)


class RunCurve:
    """The metrics records of one run with its marker, colour and legend label."""

    def __init__(self, path: Path, index: int) -> None:
        """Read the run at ``path``. The ``index`` picks its marker and colour."""
        self.path = Path(path)
        self.marker = RUN_MARKERS[index % len(RUN_MARKERS)]
        self.colour = RUN_COLOURS[index % len(RUN_COLOURS)]
        self.problem = ""
        try:
            self.records: list[dict[str, Any]] = Run.open(path).read_metrics()
        except RunError as error:
            self.records, self.problem = [], str(error)

    @property
    def label(self) -> str:
        """The legend label: the marker letter and the run name."""
        return f"{self.marker}: {self.path.name}"

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """Return (log step, value) of the records where ``key`` is a number."""
        xs, ys = [], []
        for record in self.records:
            value = record.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                xs.append(log_step(record.get("step", 0)))
                ys.append(float(value))
        return xs, ys


class OverlayPlot(PlotextPlot):
    """One metric of several runs against a log step axis."""

    DEFAULT_CSS = """
    OverlayPlot {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, title: str, keys: tuple[str, ...], *, id: str | None = None) -> None:
        """Create the plot.

        Args:
            title: the plot title.
            keys: record keys to draw per run. A second key, such as the bound next to the
                measured accuracy gap, is drawn with the run's upper-case marker.
            id: the widget id.
        """
        super().__init__(id=id)
        self.title = title
        self.keys = keys
        self.curves: list[RunCurve] = []

    def set_curves(self, curves: list[RunCurve]) -> None:
        """Draw these runs."""
        self.curves = curves
        self.refresh()

    def render(self):
        """Draw each run's series with its marker and colour, and the hand-made step ticks."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        max_step = 0
        for curve in self.curves:
            for position, key in enumerate(self.keys):
                xs, ys = curve.series(key)
                if not xs:
                    continue
                marker = curve.marker if position == 0 else curve.marker.upper()
                label = curve.label if position == 0 else f"{marker}: bound"
                plt.plot(xs, ys, marker=marker, color=curve.colour, label=label)
            if curve.records:
                max_step = max(max_step, curve.records[-1].get("step", 0))
        positions, labels = log_step_ticks(max_step)
        plt.xticks(positions, labels)
        plt.xlabel("step (log)")
        plt.title(self.title)
        return super().render()


class CompareScreen(Screen):
    """Test accuracy, ε_eq and the accuracy gap with its bound, for several runs at once.

    Each run has one letter marker and one colour. In the gap plot, its measured gap uses
    the lower-case letter and the certified bound the upper-case one.

    Args:
        paths: the run folders to overlay.
    """

    DEFAULT_CSS = """
    CompareScreen #compare-title {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    CompareScreen Horizontal {
        height: 1fr;
    }
    """

    BINDINGS = [Binding("escape", "close", "Back")]
    PLOTS = (
        ("compare-accuracy", "test accuracy", ("test_acc",)),
        ("compare-eps", "ε_eq", ("eps_eq",)),
        ("compare-gap", "accuracy gap (a) and bound (A)", ("acc_gap", "acc_gap_bound")),
    )  # (id, title, record keys)

    def __init__(self, paths: list[Path]) -> None:
        """Create the overlay of the runs at ``paths``."""
        super().__init__()
        self.curves = [RunCurve(path, index) for index, path in enumerate(paths)]

    def compose(self) -> ComposeResult:
        """Lay out the legend line and the three plots."""
        legend = "  ".join(curve.label for curve in self.curves)
        problems = [curve.problem for curve in self.curves if curve.problem]
        yield Static(Text("\n".join([f"comparing {legend}", *problems])), id="compare-title")
        with Horizontal():
            yield OverlayPlot(*self.PLOTS[0][1:], id=self.PLOTS[0][0])
            yield OverlayPlot(*self.PLOTS[1][1:], id=self.PLOTS[1][0])
        yield OverlayPlot(*self.PLOTS[2][1:], id=self.PLOTS[2][0])
        yield Footer()

    def on_mount(self) -> None:
        """Give every plot the runs."""
        for plot in self.query(OverlayPlot):
            plot.set_curves(self.curves)

    def action_close(self) -> None:
        """Return to the browser."""
        self.app.pop_screen()
