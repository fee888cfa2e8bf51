"""The live explorer that ``grok-tui train`` opens on a terminal."""

from __future__ import annotations

from textual.app import App

from grok_tui.commands.train import PreparedRun
from grok_tui.logs import LogNotifications
from grok_tui.screens.training import EXIT_FAILED, Replay, TrainingScreen


class TrainingApp(LogNotifications, App[None]):
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

    async def action_quit(self) -> None:
        """Quit from any screen the way ``q`` does: stop, save a checkpoint, then exit."""
        self.training_screen.action_quit()


def run_training_app(prepared: PreparedRun) -> int:
    """Train ``prepared`` in the live explorer and return the exit code.

    Returns:
        0 when training finished or was stopped, 1 when it diverged or raised an error.
    """
    app = TrainingApp(prepared)
    app.run()
    if app.return_code not in (None, 0):
        return EXIT_FAILED
    return app.training_screen.exit_code

