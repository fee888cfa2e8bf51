"""The app that ``grok-tui inspect`` opens: one run, or the browser of a folder of runs."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from grok_tui.logs import LogNotifications
from grok_tui.screens.browser import RunBrowserScreen
from grok_tui.screens.inspect import InspectScreen


class InspectApp(LogNotifications, App):
    """Explore saved runs: the inspect screen of one run, or the run browser of a folder.

    Args:
        path: a run folder, or a folder of runs.
        is_run: whether ``path`` is one run rather than a folder of runs.
    """

    TITLE = "grok-tui inspect"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, path: Path, is_run: bool) -> None:
        """Create the app for ``path``."""
        super().__init__()
        self.path = Path(path)
        self.is_run = is_run

    def get_default_screen(self) -> Screen:
        """Start on the run's inspect screen, or on the browser of the folder."""
        if self.is_run:
            return InspectScreen(self.path)
        return RunBrowserScreen(self.path)
