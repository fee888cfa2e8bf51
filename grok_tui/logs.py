"""Logging while a Textual app owns the terminal.

The CLI logs warnings to stderr through the root logger (``logging.basicConfig`` in
``grok_tui.cli``). Its stream handler keeps the real stderr, so a line logged while an app
runs lands on top of the app's screen. The apps replace the root logger's handlers while they
run and show each warning as a notification instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from textual.app import App
from textual.message import Message

NOTIFICATION_SECONDS = 10  # warnings stay longer than Textual's default of 5 s


class LogWarning(Message):
    """A logged warning or error, to show as a notification instead of on stderr."""

    def __init__(self, text: str, severity: str) -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class NotifyHandler(logging.Handler):
    """Forwards warnings and errors to an app as ``LogWarning`` messages.

    ``post_message`` is thread-safe, so engine code may log from a worker thread.
    """

    def __init__(self, app: App) -> None:
        super().__init__(level=logging.WARNING)
        self.target = app

    def emit(self, record: logging.LogRecord) -> None:
        """Post the formatted record to the app."""
        severity = "error" if record.levelno >= logging.ERROR else "warning"
        self.target.post_message(LogWarning(self.format(record), severity))


@contextmanager
def root_handlers_replaced(*handlers: logging.Handler) -> Iterator[None]:
    """Give the root logger only ``handlers`` inside the block, and its own ones back after."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = list(handlers)
    try:
        yield
    finally:
        root.handlers = saved


class LogNotifications:
    """App mixin that shows log warnings as notifications while the app runs.

    The root logger's handlers are replaced when the app loads, before it takes over the
    terminal, and restored when it unmounts, so ``App.run`` and ``App.run_test`` both get it.
    Messages are shown literally: no Rich markup is parsed.
    """

    def on_load(self) -> None:
        """Send log warnings to this app until it unmounts."""
        self._log_handlers = ExitStack()
        self._log_handlers.enter_context(root_handlers_replaced(NotifyHandler(self)))

    def on_unmount(self) -> None:
        """Give the root logger its own handlers back."""
        log_handlers = getattr(self, "_log_handlers", None)
        if log_handlers is not None:
            log_handlers.close()

    def on_log_warning(self, message: LogWarning) -> None:
        """Show a logged warning as a notification."""
        self.notify(
            message.text, severity=message.severity, markup=False, timeout=NOTIFICATION_SECONDS
        )
