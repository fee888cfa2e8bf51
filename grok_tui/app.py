"""The live explorer that ``grok-tui train`` opens on a terminal."""

from __future__ import annotations

import logging

from textual.app import App
from textual.message import Message

from grok_tui.commands.train import PreparedRun
from grok_tui.screens.training import EXIT_FAILED, Replay, TrainingScreen


class LogWarning(Message):
    """A warning logged by the engine, to show as a notification instead of on stderr."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class _NotifyHandler(logging.Handler):
    """Forwards log records to the app as messages (``post_message`` is thread-safe)."""

    def __init__(self, app: App) -> None:
        super().__init__(level=logging.WARNING)
        self.target = app

    def emit(self, record: logging.LogRecord) -> None:
        """Post the formatted record to the app."""
        self.target.post_message(LogWarning(self.format(record)))


class TrainingApp(App[None]):
    """The explorer around one training screen, live or replayed.

    Args:
        prepared: the run to train, as the ``train`` command prepared it.
        replay: recorded metrics to show instead, without training.
    """

    TITLE = "grok-tui"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, prepared: PreparedRun | None = None, replay: Replay | None = None) -> None:
        """Create the app for exactly one of ``prepared`` and ``replay``."""
        super().__init__()
        self.training_screen = TrainingScreen(prepared, replay)

    def on_mount(self) -> None:
        """Show the training screen."""
        self.push_screen(self.training_screen)

    def on_log_warning(self, message: LogWarning) -> None:
        """Show an engine warning as a notification, literally."""
        self.notify(message.text, severity="warning", markup=False, timeout=10)

    async def action_quit(self) -> None:
        """Quit from any screen the way ``q`` does: stop, save a checkpoint, then exit."""
        self.training_screen.action_quit()


def run_training_app(prepared: PreparedRun) -> int:
    """Train ``prepared`` in the live explorer and return the exit code.

    Returns:
        0 when training finished or was stopped, 1 when it diverged or raised an error.
    """
    app = TrainingApp(prepared)
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    # log lines written to stderr would tear the screen, so they become notifications
    root.handlers = [_NotifyHandler(app)]
    try:
        app.run()
    finally:
        root.handlers = saved_handlers
    if app.return_code not in (None, 0):
        return EXIT_FAILED
    return app.training_screen.exit_code

