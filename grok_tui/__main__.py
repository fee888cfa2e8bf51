"""Entry point for ``python -m grok_tui``."""

from grok_tui.cli import main

main()
