"""A notice that replaces a screen's content while the terminal is below the screen's minimum."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.widgets import Static


class SizeNotice(Static):
    """The line "needs at least WxH (now wxh): enlarge the terminal", shown centred.

    It is hidden until its screen has the ``-too-small`` class, which ``MinimumSize`` sets.
    """

    SCOPED_CSS = False  # the rule below matches the screen, outside this widget
    DEFAULT_CSS = """
    SizeNotice {
        display: none;
        height: 1fr;
        content-align: center middle;
        text-style: bold;
    }
    .-too-small > SizeNotice {
        display: block;
    }
    """


class MinimumSize:
    """Screen mixin: show the screen's ``SizeNotice`` while the terminal is too small.

    The screen composes one ``SizeNotice`` and hides its own widgets in CSS under
    ``.-too-small``, so they keep their state and come back when the terminal grows. The class
    is set on mount, on each resize, and when the screen returns to the top of the stack,
    because a screen below the top may have missed resizes.
    """

    MIN_WIDTH = 60
    MIN_HEIGHT = 20

    def on_mount(self) -> None:
        """Check the terminal size the screen starts with."""
        self.check_size(self.app.size)

    def on_resize(self, event: events.Resize) -> None:
        """Check the new terminal size."""
        self.check_size(event.size)

    def on_screen_resume(self) -> None:
        """Check the size again, which may have changed while another screen was on top."""
        self.check_size(self.app.size)

    def check_size(self, size: Size) -> None:
        """Hide the content behind the notice while ``size`` is below the minimum."""
        too_small = size.width < self.MIN_WIDTH or size.height < self.MIN_HEIGHT
        self.set_class(too_small, "-too-small")
        if too_small:
            self.query_one(SizeNotice).update(self.size_notice_text(size.width, size.height))

    def size_notice_text(self, width: int, height: int) -> Text:
        """Return the notice for a terminal of ``width`` x ``height`` cells."""
        return Text(
            f"needs at least {self.MIN_WIDTH}x{self.MIN_HEIGHT} (now {width}x{height}): "
            "enlarge the terminal"
        )
