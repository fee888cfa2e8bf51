"""The report of invalid input by every command: one line on stderr and exit code 2."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

USAGE_ERROR = 2

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    """Print ``error: message`` to stderr, literally, and exit with ``code``."""
    _stderr.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)
