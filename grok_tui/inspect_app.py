"""The app that ``grok-tui inspect`` opens: one run, or the browser of a folder of runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from grok_tui.errors import USAGE_ERROR
from grok_tui.logs import LogNotifications
from grok_tui.screens.browser import RunBrowserScreen
from grok_tui.screens.inspect import InspectScreen

EXIT_OK = 0
EXIT_RUN_PROBLEM = USAGE_ERROR  # a damaged run is bad input, like an invalid argument


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
        self.inspect_screen: InspectScreen | None = None  # the run's screen, when is_run

    @property
    def problems(self) -> list[str]:
        """What the inspect screen of a single run could not read; empty for a folder."""
        if self.inspect_screen is None:
            return []
        return list(self.inspect_screen.problems)

    def get_default_screen(self) -> Screen:
        """Start on the run's inspect screen, or on the browser of the folder."""
        if self.is_run:
            self.inspect_screen = InspectScreen(self.path)
            return self.inspect_screen
        return RunBrowserScreen(self.path)


def print_problems(app: InspectApp, file: TextIO | None = None) -> int:
    """Print each problem the closed app found as ``warning: ...`` and return the exit code.

    Args:
        app: the app, after it has exited, so the lines are not drawn over its screen.
        file: where to print; stderr by default.

    Returns:
        2 when the run had a problem (an unreadable metrics line or checkpoint), else 0.
    """
    file = file or sys.stderr
    for problem in app.problems:
        print(f"warning: {problem}", file=file)
    return EXIT_RUN_PROBLEM if app.problems else EXIT_OK


def run_inspect_app(path: Path, is_run: bool) -> int:
    """Open the inspect app on ``path`` and return the exit code once it has closed."""
    app = InspectApp(path, is_run)
    app.run()
    return print_problems(app)
