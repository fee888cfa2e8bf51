"""Placeholder until the live explorer lands: trains headless."""

from grok_tui.commands.train import PreparedRun


def run_training_app(prepared: PreparedRun) -> int:
    """Train the prepared run headless and return its exit code."""
    from grok_tui.headless import train_headless

    return train_headless(prepared)
