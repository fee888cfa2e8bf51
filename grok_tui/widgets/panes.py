"""The metrics panes: loss and accuracy, bound versus gap, and the alignment heatmap.

``MetricsPanes`` only draws records, so the live training screen and any screen that shows a
saved run can share it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widget import Widget

from grok_tui.widgets.bounds import GapChart, RhoChart
from grok_tui.widgets.curves import AccuracyChart, LossChart, StepChart
from grok_tui.widgets.downsample import RecordHistory
from grok_tui.widgets.heatmap import FrequencyHeatmap


class MetricsPanes(Widget):
    """Three panes side by side that draw a run's metrics records.

    Records can arrive one at a time while a run trains. Redraws are coalesced to at most one
    per ``REDRAW_INTERVAL`` seconds, and each chart draws at most one point per cell of its
    width, so the drawing cost stays flat however long the run.

    Pane ids: ``loss-accuracy`` (charts ``loss``, ``accuracy``), ``bounds`` (charts ``gap``,
    ``rho``) and ``alignment`` (heatmap ``heatmap``).
    """

    DEFAULT_CSS = """
    MetricsPanes {
        layout: grid;
        grid-size: 3 1;
        grid-columns: 1fr 1fr 1fr;
        height: 1fr;
    }
    MetricsPanes > .pane {
        border: round $primary-darken-1;
        border-title-color: $text;
        height: 1fr;
    }
    """

    REDRAW_INTERVAL = 1.0  # seconds; at most 1 redraw a second while records stream in

    def __init__(
        self, records: Iterable[dict[str, Any]] = (), *, id: str | None = None
    ) -> None:
        """Create the panes, drawing ``records`` once mounted.

        Args:
            records: metrics records in step order.
            id: the widget id.
        """
        super().__init__(id=id)
        self.history = RecordHistory(records)
        self.log_axis = True
        self._redraw_timer: Timer | None = None
        self._last_redraw = 0.0

    def compose(self) -> ComposeResult:
        """Compose the three panes."""
        with Vertical(id="loss-accuracy", classes="pane") as pane:
            pane.border_title = "loss and accuracy"
            yield LossChart(self.history, id="loss")
            yield AccuracyChart(self.history, id="accuracy")
        with Vertical(id="bounds", classes="pane") as pane:
            pane.border_title = "bound vs gap"
            yield GapChart(self.history, id="gap")
            yield RhoChart(self.history, id="rho")
        with Vertical(id="alignment", classes="pane") as pane:
            pane.border_title = "alignment"
            yield FrequencyHeatmap(self.history, id="heatmap")

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records drawn, in step order (do not modify)."""
        return self.history.records

    @property
    def heatmap_source(self) -> str:
        """The name of the quantity the heatmap shows: embedding, unembedding or logit profile."""
        return self.query_one(FrequencyHeatmap).source.label

    def set_records(self, records: list[dict[str, Any]]) -> None:
        """Replace the records drawn with ``records`` (in step order) and redraw."""
        self.history.replace(records)
        self._request_redraw()

    def add_record(self, record: dict[str, Any]) -> None:
        """Add the record of the next evaluation; the redraw follows within REDRAW_INTERVAL."""
        self.history.append(record)
        self._request_redraw()

    def cycle_heatmap_source(self) -> None:
        """Show the next heatmap source: embedding, unembedding, logit profile, embedding."""
        self.query_one(FrequencyHeatmap).cycle_source()

    def toggle_log_axis(self) -> None:
        """Switch every step axis between log10(step + 1) and the linear step."""
        self.log_axis = not self.log_axis
        for widget in self._drawings():
            widget.log_axis = self.log_axis
        self._redraw()

    def _drawings(self) -> list[StepChart | FrequencyHeatmap]:
        """Return the charts and the heatmap."""
        return [*self.query(StepChart), self.query_one(FrequencyHeatmap)]

    def _request_redraw(self) -> None:
        """Redraw now, or once REDRAW_INTERVAL has passed since the last redraw."""
        if not self.is_mounted or self._redraw_timer is not None:
            return
        wait = self._last_redraw + self.REDRAW_INTERVAL - time.monotonic()
        if wait <= 0:
            self._redraw()
        else:
            self._redraw_timer = self.set_timer(wait, self._redraw)

    def _redraw(self) -> None:
        """Refresh every chart; each draws the records at its size when it renders."""
        self._redraw_timer = None
        self._last_redraw = time.monotonic()
        for widget in self._drawings():
            widget.refresh()
