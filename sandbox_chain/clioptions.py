"""The options every `lune chain` command shares, defined once (`cli` and `node.cli` use them)."""

from __future__ import annotations

import click

# The demo's chain: `lune demo` then `lune chain info` shows what the demo mined.
DEFAULT_DATADIR = ".lune/demo/chain"
NETWORKS = ("regtest", "classroom")

datadir_option = click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    default=DEFAULT_DATADIR,
    show_default=True,
    help="Data directory of the chain (the node's files and your wallet file live there too).",
)
network_option = click.option(
    "--network",
    type=click.Choice(NETWORKS),
    default="regtest",
    show_default=True,
    help="Which sandbox network.",
)
