"""`lune chain …`: the sandbox chain from the command line (a thin shell over the library)."""

from __future__ import annotations

import click


@click.group()
def chain() -> None:
    """The sandbox chain: mine, inspect and run nodes."""
