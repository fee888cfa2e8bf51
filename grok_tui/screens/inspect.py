"""The inspect screen: one saved run's panes, followed live, and its checkpoint scrubber."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TabbedContent, TabPane

from engine.checkpoint_geometry import (
    CheckpointGeometry,
    checkpoint_geometry,
    clock_coordinates,
    residue_of_coordinate,
)
from engine.runs import METRICS_FILE, Run, RunError
from grok_tui.widgets.checkpoints import CheckpointList, FrequencyEnergyPlot
from grok_tui.widgets.clock import ClockPlot
from grok_tui.widgets.panes import MetricsPanes
from grok_tui.widgets.size_notice import MinimumSize, SizeNotice


@dataclass
class MetricsUpdate:
    """Records and unreadable lines appended to a metrics log since the last read."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped_lines: list[int] = field(default_factory=list)  # 1-based line numbers
    restarted: bool = False  # the log was replaced, as a resume does, so records start over


class MetricsFollower:
    """Reads the complete lines appended to a metrics log since the previous read.

    It remembers the byte offset of the first unread line, so each read costs only the new
    bytes. A trailing line without its newline is left for a later read, because the writer
    may still be appending it. A log replaced by another file (a resumed run rewrites it) is
    read again from the start.
    """

    def __init__(self, path: Path) -> None:
        """Follow the log at ``path``, which need not exist yet."""
        self.path = Path(path)
        self.offset = 0
        self.line_number = 0
        self._inode: int | None = None

    def read(self, final: bool = False) -> MetricsUpdate:
        """Return the records and unreadable line numbers of the lines completed since.

        Args:
            final: the writer has finished, so a trailing line without a newline is cut off
                for good and counts as unreadable.
        """
        update = MetricsUpdate()
        try:
            with open(self.path, "rb") as log:
                inode = os.fstat(log.fileno()).st_ino
                size = os.fstat(log.fileno()).st_size
                if inode != self._inode or size < self.offset:
                    update.restarted = self._inode is not None
                    self._inode, self.offset, self.line_number = inode, 0, 0
                log.seek(self.offset)
                data = log.read()
        except FileNotFoundError:
            return update

        end = data.rfind(b"\n") + 1  # 0 when no line is complete
        lines = data[:end].split(b"\n")[:-1]
        if final and data[end:].strip():
            lines.append(data[end:])
            end = len(data)
        self.offset += end
        for line in lines:
            self.line_number += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8", errors="replace"))
            except json.JSONDecodeError:
                update.skipped_lines.append(self.line_number)
                continue
            if isinstance(record, dict):
                update.records.append(record)
            else:
                update.skipped_lines.append(self.line_number)
        return update


class InspectScreen(MinimumSize, Screen):
    """One run: the training panes from its metrics log, and its checkpoints' geometry.

    While the run is still training the screen follows its metrics log and checkpoints.
    Choosing a checkpoint loads its weights on the CPU and recomputes the geometry in a
    worker thread.

    Args:
        path: the run folder.
    """

    DEFAULT_CSS = """
    InspectScreen #inspect-title {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    InspectScreen #checkpoint-side {
        width: 24;
    }
    InspectScreen #checkpoint-stats {
        height: 6;
        padding: 0 1;
    }
    InspectScreen #checkpoint-plots {
        width: 1fr;
    }
    InspectScreen.-too-small #inspect-title, InspectScreen.-too-small TabbedContent {
        display: none;
    }
    """

    BINDINGS = [
        # one of the two escape bindings is active, so the footer names what escape does
        Binding("escape", "close", "Back"),
        Binding("escape", "app.quit", "Quit"),
        Binding("t", "switch_tab", "Tab"),
        Binding("f", "next_frequency", "Next k"),
        Binding("F", "previous_frequency", "Previous k"),
        Binding("h", "cycle_heatmap", "Heatmap"),
        Binding("l", "toggle_log_axis", "Log axis"),
    ]
    FOLLOW_SECONDS = 0.5  # poll interval of the metrics log while the run trains

    def __init__(self, path: Path) -> None:
        """Create the screen for the run folder at ``path``."""
        super().__init__()
        self.path = Path(path)
        self.run: Run | None = None
        self.state = ""
        self.problems: list[str] = []
        self.records: list[dict[str, Any]] = []
        self.geometries: dict[int, CheckpointGeometry] = {}  # step -> loaded checkpoint
        self.displayed: CheckpointGeometry | None = None  # the checkpoint on view
        self.frequency_index = 0
        self.config: dict[str, Any] = {}
        self._follower = MetricsFollower(self.path / METRICS_FILE)
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Lay out the title, the panes tab, the checkpoints tab, the size notice and the footer."""
        yield Static(Text(str(self.path)), id="inspect-title")
        with TabbedContent(initial="curves-tab"):
            with TabPane("curves", id="curves-tab"):
                yield MetricsPanes(id="panes")
            with TabPane("checkpoints", id="checkpoints-tab"):
                with Horizontal():
                    with Vertical(id="checkpoint-side"):
                        yield CheckpointList(id="checkpoint-list")
                        yield Static(id="checkpoint-stats")
                    with Vertical(id="checkpoint-plots"):
                        yield ClockPlot(id="clock")
                        yield FrequencyEnergyPlot(id="energy")
        yield SizeNotice()
        yield Footer()

    def on_mount(self) -> None:
        """Open the run, draw what it has, and follow it while it trains."""
        try:
            self.run = Run.open(self.path)
            self.config = self.run.read_config().get("config", {})
        except RunError as error:
            self.problems.append(str(error))
            self._update_title()
            return
        self.state = self.run.state()
        self._read_new_records(final=self.state != "running")
        self._refresh_checkpoints()
        self._update_title()
        if self.state == "running":
            self._follow_timer = self.set_interval(self.FOLLOW_SECONDS, self.follow)

    # the metrics log

    def follow(self) -> None:
        """Read new records and checkpoints, and stop following once the run has ended."""
        if self.run is None:
            return
        self._read_new_records()
        self._refresh_checkpoints()
        state = self.run.state()
        if state != "running":
            self._read_new_records(final=True)  # lines written just before the final status
            self._refresh_checkpoints()
            if self._follow_timer is not None:
                self._follow_timer.stop()
        if state != self.state:
            self.state = state
            self._update_title()

    def _read_new_records(self, final: bool = False) -> None:
        """Add the newly completed records to the panes, and warn about unreadable lines.

        Args:
            final: the run has ended, so a trailing line without a newline is cut off.
        """
        update = self._follower.read(final=final)
        panes = self.query_one(MetricsPanes)
        first_read = not self.records
        if update.restarted:
            self.records = []
        self.records.extend(update.records)
        if update.restarted or first_read:
            panes.set_records(self.records)
        else:
            for record in update.records:
                panes.add_record(record)
        for line in update.skipped_lines:
            message = f"{self._follower.path}: skipped unreadable line {line}"
            self.problems.append(message)
            self.log.warning(message)  # the notification shows it, so not the root logger too
            self.notify(message, title="metrics log", severity="warning", markup=False)
        if update.records or update.skipped_lines:
            self._update_title()

    def _update_title(self) -> None:
        """Show the run name, task, state, last step and the latest problem."""
        title = self.query_one("#inspect-title", Static)
        parts = [self.path.name]
        if self.run is not None:
            config = self.config
            parts.append(
                f"{config.get('op')} p={config.get('p')} {config.get('model')}, {self.state}"
            )
            if self.records:
                last = self.records[-1]
                parts.append(
                    f"step {last.get('step')} of {config.get('steps')}, "
                    f"{len(self.records)} records"
                )
        text = Text("  |  ".join(parts))
        if self.problems:
            text.append("\n" + self.problems[-1], style="yellow")
        title.update(text)

    # checkpoints

    def _refresh_checkpoints(self) -> None:
        """List the checkpoints saved so far, with the test accuracy logged at their step."""
        accuracy = {record.get("step"): record.get("test_acc") for record in self.records}
        checkpoints = [
            {"step": step, "test_acc": accuracy.get(step)}
            for step in self.run.checkpoint_steps()
        ]
        self.query_one(CheckpointList).set_checkpoints(checkpoints)
        if not checkpoints:
            self.query_one(ClockPlot).show_message("no checkpoints saved yet")

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Focus the checkpoint list, highlighting the newest checkpoint the first time."""
        if event.pane.id != "checkpoints-tab":
            return
        checkpoints = self.query_one(CheckpointList)
        checkpoints.focus()
        if checkpoints.highlighted is None and checkpoints.option_count:
            checkpoints.highlighted = checkpoints.option_count - 1

    def on_checkpoint_list_chosen(self, event: CheckpointList.Chosen) -> None:
        """Show the chosen checkpoint, loading it first unless it is already loaded."""
        if self.displayed is None or self.displayed.step != event.step:
            self.frequency_index = 0  # keys pressed while it loads still count
        if event.step in self.geometries:
            self._show_geometry(self.geometries[event.step])
            return
        self.query_one(ClockPlot).show_message(f"loading checkpoint {event.step} ...")
        self.load_checkpoint(event.step)

    # NOTE: a thread worker cannot be interrupted, so scrubbing quickly runs one evaluation
    # per checkpoint passed. Each result is cached, and only the highlighted one is drawn.
    @work(thread=True, exclusive=True, group="checkpoint")
    def load_checkpoint(self, step: int) -> None:
        """Load the checkpoint at ``step`` on the CPU and compute its geometry (worker thread)."""
        try:
            geometry = checkpoint_geometry(self.run, step)
        except RunError as error:
            self.app.call_from_thread(self._show_checkpoint_error, step, str(error))
            return
        self.app.call_from_thread(self._store_geometry, geometry)

    def _store_geometry(self, geometry: CheckpointGeometry) -> None:
        """Keep a loaded checkpoint and show it if it is still the highlighted one."""
        self.geometries[geometry.step] = geometry
        if self.query_one(CheckpointList).highlighted_step == geometry.step:
            self._show_geometry(geometry)

    def _show_checkpoint_error(self, step: int, message: str) -> None:
        """Mark a checkpoint as unreadable and show the error, keeping the others usable."""
        self.log.warning(message)  # the notification shows it, so not the root logger too
        if message not in self.problems:
            self.problems.append(message)
            self._update_title()
        self.query_one(CheckpointList).mark_error(step, message)
        self.query_one(ClockPlot).show_message(f"checkpoint {step} is unreadable")
        self.query_one(FrequencyEnergyPlot).set_record(None)
        self.query_one("#checkpoint-stats", Static).update(Text(message, style="red"))
        self.displayed = None
        self.notify(message, title="checkpoint", severity="error", markup=False)

    def _show_geometry(self, geometry: CheckpointGeometry) -> None:
        """Show the stats, energies and clock of a loaded checkpoint."""
        self.displayed = geometry
        record = geometry.record
        self.query_one("#checkpoint-stats", Static).update(Text(checkpoint_stats(record)))
        self.query_one(FrequencyEnergyPlot).set_record(record)
        self._draw_clock()

    @property
    def clock_frequencies(self) -> list[int]:
        """The displayed checkpoint's top frequencies that have a cos/sin plane."""
        if self.displayed is None:
            return []
        n = self.displayed.task.n
        return [k for k in self.displayed.record["top_frequencies"] if 1 <= k < n / 2]

    @property
    def clock_frequency(self) -> int | None:
        """The key frequency the clock shows, or None."""
        frequencies = self.clock_frequencies
        if not frequencies:
            return None
        return frequencies[self.frequency_index % len(frequencies)]

    def _draw_clock(self) -> None:
        """Project the displayed checkpoint's embedding onto the plane of the chosen frequency."""
        clock = self.query_one(ClockPlot)
        frequency = self.clock_frequency
        if self.displayed is None or frequency is None:
            clock.show_message("no key frequency with a cos/sin plane")
            return
        points = clock_coordinates(self.displayed.model, self.displayed.task, frequency)
        clock.set_points(
            [(float(x), float(y)) for x, y in points.tolist()],
            residue_of_coordinate(self.displayed.task),
            frequency,
        )

    # actions

    def action_next_frequency(self) -> None:
        """Show the clock of the next top frequency of this checkpoint."""
        self.frequency_index += 1
        self._draw_clock()

    def action_previous_frequency(self) -> None:
        """Show the clock of the previous top frequency of this checkpoint."""
        self.frequency_index -= 1
        self._draw_clock()

    def action_cycle_heatmap(self) -> None:
        """Show the next heatmap source in the curves tab."""
        self.query_one(MetricsPanes).cycle_heatmap_source()

    def action_toggle_log_axis(self) -> None:
        """Switch the step axes of the curves tab between log and linear."""
        self.query_one(MetricsPanes).toggle_log_axis()

    def action_switch_tab(self) -> None:
        """Switch between the curves tab and the checkpoints tab."""
        tabs = self.query_one(TabbedContent)
        tabs.active = "checkpoints-tab" if tabs.active == "curves-tab" else "curves-tab"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable "close" on the only screen, where escape quits the app instead."""
        if action == "close":
            return len(self.app.screen_stack) > 1
        return True

    def action_close(self) -> None:
        """Return to the previous screen."""
        self.app.pop_screen()


def checkpoint_stats(record: dict[str, Any]) -> str:
    """Return the stats lines of a checkpoint's record: accuracy, ε_eq, γ*, certified, top k."""
    top = ",".join(str(k) for k in record["top_frequencies"][:5])
    return "\n".join([
        f"step {record['step']}",
        f"test acc  {record['test_acc']:.4f}",
        f"ε_eq      {record['eps_eq']:.4f}",
        f"γ*        {record['margin']:.4g}",
        f"certified {record['certified_test']:.4f}",
        f"top k {top}",
    ])
