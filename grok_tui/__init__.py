"""grok-tui: a terminal explorer for grokking on modular arithmetic."""

from engine import __version__

__all__ = ["__version__"]
