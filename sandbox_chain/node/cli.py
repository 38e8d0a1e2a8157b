"""`lune chain node`, `lune chain devnet`, `lune chain wallet …`, `lune chain faucet`."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import StorageError


@click.command("node")
@click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    required=True,
    help="Data directory (chain database, cookie, faucet key).",
)
@click.option(
    "--network",
    type=click.Choice(["regtest", "classroom"]),
    default="regtest",
    show_default=True,
    help="Which sandbox network to run.",
)
@click.option(
    "--rpcport",
    type=click.IntRange(0, 65535),
    default=None,
    help="JSON-RPC/REST port (default: 18443 on regtest, 18543 on classroom; 0: any).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="P2P port (default: 18444 on regtest, 18544 on classroom; 0: any).",
)
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--connect", multiple=True, metavar="HOST:PORT", help="Peer to keep connected to (repeatable)."
)
@click.option("--rpcuser", default=None, help="RPC user name (instead of the cookie file).")
@click.option("--rpcpassword", default=None, help="RPC password (instead of the cookie file).")
@click.option(
    "--faucet-interval",
    type=click.FloatRange(0),
    default=3600.0,
    show_default=True,
    help="Seconds before the faucet pays the same address again.",
)
@click.option("--debug", is_flag=True, help="Log debugging detail.")
def node_command(
    datadir, network, rpcport, port, bind, connect, rpcuser, rpcpassword, faucet_interval, debug
) -> None:
    """Run a node: JSON-RPC and REST on the RPC port, P2P sync with peers. Ctrl-C stops it."""
    from .node import Node, NodeConfig

    if (rpcuser is None) != (rpcpassword is None):
        raise click.BadParameter("give both --rpcuser and --rpcpassword, or neither")
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = NodeConfig(
        datadir=Path(datadir),
        network=network,
        rpcport=rpcport,
        port=port,
        bind=bind,
        connect=list(connect),
        rpcuser=rpcuser,
        rpcpassword=rpcpassword,
        faucet_interval=faucet_interval,
    )
    node = Node(config)
    try:
        node.run()
    except (StorageError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
