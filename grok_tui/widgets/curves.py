"""Charts of metrics against the training step: the base chart, loss and accuracy.

Every series has its own marker as well as its own colour, and the title names the markers,
so train and test stay apart without colour (NO_COLOR, TERM=linux).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from textual_plotext import PlotextPlot

from grok_tui.widgets.axes import (
    log_value,
    log_value_ticks,
    padded_range,
    spread_ticks,
    step_position,
    step_ticks,
)
from grok_tui.widgets.downsample import RecordHistory

TRAIN_MARKER = "o"
TEST_MARKER = "x"
TRAIN_COLOR = "cyan"
TEST_COLOR = "orange"
GUIDE_COLOR = "gray"


@dataclass(frozen=True)
class Series:
    """One line of a chart: a record key drawn with a marker and colour."""

    key: str
    marker: str
    color: str
    log: bool = False  # draw log10 of the value
    right_axis: bool = False  # use the y axis on the right


class StepChart(PlotextPlot):
    """A plotext chart of record values against the step, on a log or linear step axis.

    The chart draws at most one point per cell of its width, chosen evenly along the step axis
    from a shared ``RecordHistory``. It redraws only when refreshed, so the owner decides how
    often (see ``MetricsPanes``).
    """

    DEFAULT_CSS = """
    StepChart {
        height: 1fr;
        min-height: 5;
    }
    """

    TITLES: tuple[str, ...] = ("",)  # from longest to shortest, and the first that fits is drawn
    SERIES: tuple[Series, ...] = ()
    Y_LIMITS: tuple[float, float] | None = None  # fixed left y range, or None to fit the data
    LOG_THRESHOLD: float | None = None  # draw a horizontal guide at this value (log axes)
    FRAME_ROWS = 4  # rows that are not canvas: title, top frame, x axis, x tick labels

    def __init__(self, history: RecordHistory, *, id: str | None = None) -> None:
        """Create a chart of ``history``.

        Args:
            history: the records to draw; the chart reads it on every redraw.
            id: the widget id.
        """
        super().__init__(id=id)
        self.history = history
        self.log_axis = True

    def render(self):
        """Draw the sampled records at the current size, then render the plot."""
        self._draw(max(self.size.width - 8, 2))
        return super().render()

    def _draw(self, max_points: int) -> None:
        """Replace the figure's data with up to ``max_points`` records per series."""
        plt = self.plt
        plt.clear_figure()
        plt.title(self._fitting_title())
        records = self.history.sample(max_points, self.log_axis)
        if not records:
            plt.title(f"{self.TITLES[-1]}: waiting")
            return

        self._draw_step_axis(records)
        left_values: list[float] = []
        for series in self.SERIES:
            xs, ys = self._points(records, series)
            if not ys:
                continue
            if not series.right_axis:
                left_values.extend(ys)
            plt.plot(
                xs,
                ys,
                marker=series.marker,
                color=series.color,
                yside="right" if series.right_axis else "left",
            )
        self._draw_left_axis(left_values)
        self._draw_guides(records)

    def _fitting_title(self) -> str:
        """Return the longest title that fits the width (plotext drops a title that does not).

        plotext centres the title on the canvas, right of the y tick labels, so a title fits
        when it is about 6 cells narrower than the chart (measured on plotext 5.3).
        """
        width = self.size.width - 6
        return next((title for title in self.TITLES if len(title) <= width), "")

    def _draw_step_axis(self, records: list[dict[str, Any]]) -> None:
        """Set the x range and label its ticks with step counts."""
        first, last = records[0]["step"], records[-1]["step"]
        low, high = step_position(first, self.log_axis), step_position(last, self.log_axis)
        if high <= low:
            high = low + 1
        self.plt.xlim(low, high)
        self.plt.xticks(*step_ticks(first, max(last, first + 1), self.log_axis))

    def _draw_left_axis(self, values: list[float]) -> None:
        """Fix or label the left y axis: a given range, or log10 ticks for log series."""
        if self.Y_LIMITS is not None:
            self.plt.ylim(*self.Y_LIMITS)
            return
        log_series = any(series.log and not series.right_axis for series in self.SERIES)
        if log_series and values:
            if self.LOG_THRESHOLD is not None:
                values = [*values, log_value(self.LOG_THRESHOLD)]
            low, high = padded_range(values)
            self.plt.ylim(low, high)
            rows = max(self.size.height - self.FRAME_ROWS, 2)
            self.plt.yticks(*spread_ticks(*log_value_ticks(low, high), low, high, rows))

    def _draw_guides(self, records: list[dict[str, Any]]) -> None:
        """Draw reference lines; the base chart draws the log threshold, if any."""
        if self.LOG_THRESHOLD is not None:
            self.plt.hline(log_value(self.LOG_THRESHOLD), GUIDE_COLOR)

    def _points(self, records: list[dict[str, Any]], series: Series):
        """Return the (x, y) points of ``series``, leaving out missing and non-finite values."""
        xs, ys = [], []
        for record in records:
            value = record.get(series.key)
            if value is None or not math.isfinite(value):
                continue
            xs.append(step_position(record["step"], self.log_axis))
            ys.append(log_value(value) if series.log else value)
        return xs, ys


class LossChart(StepChart):
    """Train and test cross-entropy in nats, on a log10 axis."""

    TITLES = (
        f"loss (nats)  {TRAIN_MARKER} train  {TEST_MARKER} test",
        f"loss  {TRAIN_MARKER} train  {TEST_MARKER} test",
        f"loss {TRAIN_MARKER} train {TEST_MARKER} test",
        f"{TRAIN_MARKER} train {TEST_MARKER} test",
    )
    SERIES = (
        Series("train_loss", TRAIN_MARKER, TRAIN_COLOR, log=True),
        Series("test_loss", TEST_MARKER, TEST_COLOR, log=True),
    )


class AccuracyChart(StepChart):
    """Train and test accuracy, with a vertical guide at the grok step once there is one."""

    TITLES = (
        f"accuracy  {TRAIN_MARKER} train  {TEST_MARKER} test",
        f"acc  {TRAIN_MARKER} train  {TEST_MARKER} test",
        f"acc {TRAIN_MARKER} train {TEST_MARKER} test",
        f"{TRAIN_MARKER} train {TEST_MARKER} test",
    )
    SERIES = (
        Series("train_acc", TRAIN_MARKER, TRAIN_COLOR),
        Series("test_acc", TEST_MARKER, TEST_COLOR),
    )
    Y_LIMITS = (0.0, 1.0)

    def _draw_guides(self, records: list[dict[str, Any]]) -> None:
        """Draw a vertical guide at the grok step, once test accuracy reached the threshold."""
        grokked = self.history.grok_step
        if grokked is not None:
            self.plt.vline(step_position(grokked, self.log_axis), GUIDE_COLOR)
