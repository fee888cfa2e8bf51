"""The live explorer that ``grok-tui train`` opens on a terminal."""

from __future__ import annotations

from rich.console import Console
from textual.app import App

from grok_tui.commands.train import PreparedRun
from grok_tui.headless import summary_lines
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
    """Train ``prepared`` in the live explorer, print the run summary, return the exit code.

    Returns:
        0 when training finished or was stopped, 1 when it diverged or raised an error.
    """
    app = TrainingApp(prepared)
    app.run()
    console = Console(highlight=False, soft_wrap=True)
    for line in end_summary(app):
        console.print(line, markup=False)
    if app.return_code not in (None, 0):
        return EXIT_FAILED
    return app.training_screen.exit_code



def end_summary(app: TrainingApp) -> list[str]:
    """Return the lines printed once the app has closed: the headless summary of the result.

    When training raised an error there is no result, so the lines give the run and the error.
    """
    screen = app.training_screen
    if screen.result is not None:
        return summary_lines(screen.result)
    if screen.prepared is None:  # a replay trains nothing
        return []
    lines = [f"run       {screen.prepared.run.path}"]
    if screen.error_message:
        lines.append(f"status    failed: {screen.error_message}")
    return lines
