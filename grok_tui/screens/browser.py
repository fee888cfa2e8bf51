"""The run browser: a sortable, filterable table of the runs in a folder."""

from __future__ import annotations

import logging
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from engine.runs import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    METRICS_FILE,
    STATUS_FILE,
    Run,
    RunError,
    list_runs,
)
from grok_tui.commands.runs import (
    COLUMNS,
    NUMERIC_COLUMNS,
    UNREADABLE,
    RunRow,
    no_runs_message,
    run_row,
)
from grok_tui.widgets.size_notice import MinimumSize, SizeNotice

logger = logging.getLogger(__name__)

MARK_COLUMN = "mark"
FileSignature = tuple[tuple[int, int], ...]


def _signature(path: Path) -> FileSignature:
    """Return the (mtime_ns, size) of the files a run summary reads, (0, 0) for a missing one."""
    result = []
    for name in (CONFIG_FILE, STATUS_FILE, METRICS_FILE, CHECKPOINT_DIR):
        try:
            stat = (path / name).stat()
        except OSError:
            result.append((0, 0))
        else:
            result.append((stat.st_mtime_ns, stat.st_size))
    return tuple(result)


class RunBrowserScreen(MinimumSize, Screen):
    """A table of the runs under a folder, kept up to date while runs train.

    Enter opens a run, space marks it, ``c`` overlays the curves of the marked runs.

    Args:
        folder: the folder whose sub-folders are runs.
    """

    DEFAULT_CSS = """
    RunBrowserScreen #browser-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    RunBrowserScreen #browser-filter {
        height: 3;
    }
    RunBrowserScreen #browser-table {
        height: 1fr;
    }
    RunBrowserScreen #browser-status {
        height: 2;
        padding: 0 1;
        color: $text-muted;
    }
    RunBrowserScreen.-too-small #browser-title, RunBrowserScreen.-too-small #browser-filter,
    RunBrowserScreen.-too-small DataTable, RunBrowserScreen.-too-small #browser-status {
        display: none;
    }
    """

    BINDINGS = [
        # one of the two escape bindings is active, so the footer names what escape does
        Binding("escape", "close", "Back"),
        Binding("escape", "app.quit", "Quit"),
        Binding("space", "toggle_mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("slash", "focus_filter", "Filter"),
    ]
    REFRESH_SECONDS = 2.0
    MIN_WIDTH = 60
    MIN_HEIGHT = 12  # the table still shows a few rows below the filter

    def __init__(self, folder: Path) -> None:
        """Create the browser for ``folder``."""
        super().__init__()
        self.folder = Path(folder)
        self.rows: dict[str, RunRow] = {}  # run path -> row
        self.marked: set[str] = set()  # run paths
        self.sort_column = "name"
        self.sort_reverse = False
        self.filter_text = ""
        self.problem = ""  # why the folder itself cannot be listed
        self._signatures: dict[str, FileSignature] = {}

    def compose(self) -> ComposeResult:
        """Lay out the title, the filter, the table, the status line and the size notice."""
        yield Static(Text(f"runs in {self.folder}"), id="browser-title")
        yield Input(placeholder="filter by name, op, model or status (/)", id="browser-filter")
        yield DataTable(
            id="browser-table", cursor_type="row", zebra_stripes=True, fixed_columns=2
        )
        yield Static(id="browser-status")
        yield SizeNotice()
        yield Footer()

    def on_mount(self) -> None:
        """Read the runs, fill the table and start the refresh timer."""
        table = self.query_one(DataTable)
        table.add_column("", key=MARK_COLUMN, width=1)
        for key, title in COLUMNS:
            table.add_column(title, key=key)
        self.reload()
        self._render_table()
        table.focus()
        self.set_interval(self.REFRESH_SECONDS, self.reload)

    # reading runs

    def reload(self) -> None:
        """Re-read the runs whose files changed and redraw the table if anything changed."""
        try:
            runs = list_runs(self.folder)
        except RunError as error:
            changed = self.problem != str(error) or bool(self.rows)
            self.problem, self.rows = str(error), {}
        else:
            changed = self._update_rows(runs) or bool(self.problem)
            self.problem = ""
        if changed:
            self._render_table()

    def _update_rows(self, runs: list[Run]) -> bool:
        """Summarise new and changed runs, drop removed ones, and return whether any changed."""
        changed = False
        present = {str(run.path) for run in runs}
        for key in set(self.rows) - present:
            del self.rows[key]
            self._signatures.pop(key, None)
            self.marked.discard(key)
            changed = True
        for run in runs:
            key = str(run.path)
            signature = _signature(run.path)
            if self._signatures.get(key) == signature:
                continue
            self._signatures[key] = signature
            self.rows[key] = run_row(run)
            changed = True
        return changed

    # drawing

    def visible_rows(self) -> list[RunRow]:
        """Return the rows that match the filter, in sort order."""
        rows = [row for row in self.rows.values() if row.matches(self.filter_text)]
        rows.sort(key=lambda row: row.sort_key(self.sort_column), reverse=self.sort_reverse)
        return rows

    def _render_table(self) -> None:
        """Refill the table, keeping the cursor on the same run where it is still shown."""
        table = self.query_one(DataTable)
        current = self.cursor_run_path
        table.clear()
        rows = self.visible_rows()
        for row in rows:
            key = str(row.path)
            mark = Text("*" if key in self.marked else " ")
            cells = [
                Text(cell, justify="right" if column in NUMERIC_COLUMNS else "left")
                for cell, (column, _) in zip(row.cells(), COLUMNS, strict=True)
            ]
            if row.values["status"] == UNREADABLE:
                cells = [Text(cell.plain, style="red") for cell in cells]
            table.add_row(mark, *cells, key=key)
        keys = [str(row.path) for row in rows]
        if current in keys:
            table.move_cursor(row=keys.index(current), animate=False)
        self._update_status()

    def _update_status(self) -> None:
        """Show counts, sort order and, for the run under the cursor, its problems."""
        status = self.query_one("#browser-status", Static)
        if self.problem:
            status.update(Text(self.problem, style="red"))
            return
        if not self.rows:
            status.update(Text(no_runs_message(self.folder)))
            return
        direction = "descending" if self.sort_reverse else "ascending"
        visible_count = len(self.visible_rows())
        line = (
            f"{visible_count} of {len(self.rows)} runs, {len(self.marked)} marked, sorted by "
            f"{dict(COLUMNS)[self.sort_column]} ({direction})"
        )
        row = self.rows.get(self.cursor_run_path or "")
        if row is not None and row.problems:
            line += "\n" + row.problems[0]
        status.update(Text(line))

    @property
    def cursor_run_path(self) -> str | None:
        """The path of the run under the cursor, or None for an empty table."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    # events and actions

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the rows as the user types."""
        self.filter_text = event.value
        self._render_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return to the table after typing a filter."""
        self.query_one(DataTable).focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """Sort by the clicked column, reversing the order on a second click."""
        column = event.column_key.value
        if column == MARK_COLUMN:
            return
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._render_table()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the problems of the run under the cursor."""
        self._update_status()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the selected run in the inspect screen."""
        self.open_run(event.row_key.value)

    def open_run(self, key: str | None) -> None:
        """Push the inspect screen of the run at ``key``, unless it is unreadable."""
        row = self.rows.get(key or "")
        if row is None:
            return
        if row.summary is None:
            self.notify(row.problems[0], title="cannot open run", severity="error", markup=False)
            return
        from grok_tui.screens.inspect import InspectScreen

        self.app.push_screen(InspectScreen(row.path))

    def action_toggle_mark(self) -> None:
        """Mark or unmark the run under the cursor for comparison."""
        key = self.cursor_run_path
        if key is None:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        table = self.query_one(DataTable)
        table.update_cell(key, MARK_COLUMN, Text("*" if key in self.marked else " "))
        self._update_status()

    def action_compare(self) -> None:
        """Overlay the curves of the marked runs, or of the run under the cursor if none."""
        keys = [key for key in self.marked if key in self.rows] or [self.cursor_run_path]
        paths = [
            self.rows[key].path for key in keys
            if key in self.rows and self.rows[key].summary is not None
        ]
        if not paths:
            self.notify("mark readable runs with space first", severity="warning")
            return
        from grok_tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(sorted(paths)))

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        keys = [key for key, _ in COLUMNS]
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_reverse = False
        self._render_table()

    def action_reverse_sort(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._render_table()

    def action_focus_filter(self) -> None:
        """Move the focus to the filter."""
        self.query_one(Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable "close" on the only screen unless the filter has the focus.

        Escape then quits the app instead.
        """
        if action == "close":
            return len(self.app.screen_stack) > 1 or self.query_one(Input).has_focus
        return True

    def action_close(self) -> None:
        """Leave the filter, or return to the previous screen."""
        if self.query_one(Input).has_focus:
            self.query_one(DataTable).focus()
        else:
            self.app.pop_screen()
