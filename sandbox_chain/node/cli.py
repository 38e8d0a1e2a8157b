"""`lune chain node`, `lune chain devnet`, `lune chain wallet …` and `lune chain faucet`.

Thin click commands over `node.Node`, `devnet.Devnet`, `wallet.Wallet` and the RPC client.
Errors a user can fix end as one line and a non-zero exit (`click.ClickException`).
"""

from __future__ import annotations

import logging
import signal
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from ..clioptions import datadir_option, network_option
from ..errors import StorageError
from ..params import COIN
from ..wallet import WALLET_NAME, Wallet, WalletError, multisig_output
from .client import RPCClient, RPCConnectionError
from .rpc import RPCError


def _coins_to_sats(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not an amount in coins") from None
    sats = value * COIN
    if sats != sats.to_integral_value() or sats <= 0:
        raise click.BadParameter(f"{text}: a positive amount with at most 8 decimals")
    return int(sats)


def _client(datadir: str, rpc_url: str | None, user: str | None, password: str | None) -> RPCClient:
    if rpc_url:
        if user is None or password is None:
            raise click.BadParameter("--rpc-url needs --rpcuser and --rpcpassword")
        return RPCClient(rpc_url, user, password)
    try:
        return RPCClient.from_datadir(datadir)
    except RPCConnectionError as exc:
        raise click.ClickException(str(exc)) from None


def _node_options(f):
    """Options naming the node to talk to: its data directory, or a URL and credentials."""
    f = click.option("--rpcpassword", default=None, help="RPC password (with --rpc-url).")(f)
    f = click.option("--rpcuser", default=None, help="RPC user (with --rpc-url).")(f)
    f = click.option(
        "--rpc-url", default=None, help="Node RPC URL, instead of finding it in --datadir."
    )(f)
    return f


@click.command("node")
@datadir_option
@network_option
@click.option(
    "--rpcport",
    type=click.IntRange(0, 65535),
    default=None,
    help="JSON-RPC/REST port (default: 18443 on regtest, 18543 on classroom; 0: any free port).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="P2P port (default: 18444 on regtest, 18544 on classroom; 0: any free port).",
)
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--connect", multiple=True, metavar="HOST:PORT", help="Peer to stay connected to (repeatable)."
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
    datadir: str,
    network: str,
    rpcport: int | None,
    port: int | None,
    bind: str,
    connect: tuple[str, ...],
    rpcuser: str | None,
    rpcpassword: str | None,
    faucet_interval: float,
    debug: bool,
) -> None:
    """Run a node: JSON-RPC and REST on the RPC port, P2P with peers. Ctrl-C stops it."""
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
    try:
        Node(config).run()
    except (StorageError, OSError) as exc:
        raise click.ClickException(f"cannot run the node: {exc}") from None


@click.command("devnet")
@click.option("--nodes", type=click.IntRange(1, 16), default=3, show_default=True)
@click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    default=".lune/devnet",
    show_default=True,
    help="Parent directory of the nodes' data directories (node0, node1, ...).",
)
@network_option
def devnet_command(nodes: int, datadir: str, network: str) -> None:
    """Start a local network of connected nodes; print how to reach them; Ctrl-C stops all."""
    from .devnet import Devnet, DevnetError

    net = Devnet(Path(datadir), nodes, network)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        net.start()
        click.echo(net.describe())
        click.echo("devnet running; Ctrl-C stops it", err=True)
        while not stop.wait(0.5):
            if any(n.process.poll() is not None for n in net.nodes):
                raise click.ClickException("a node of the devnet exited; stopping the others")
    except DevnetError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        net.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    click.echo("devnet stopped", err=True)


@click.command("faucet")
@click.argument("address")
@click.option("--amount", default=None, help="Coins to ask for (default: the node's setting).")
@datadir_option
@_node_options
def faucet_command(
    address: str,
    amount: str | None,
    datadir: str,
    rpc_url: str | None,
    rpcuser: str | None,
    rpcpassword: str | None,
) -> None:
    """Ask a running node's faucet for sandbox coins."""
    params = [address] if amount is None else [address, str(_coins_to_sats(amount) / COIN)]
    client = _client(datadir, rpc_url, rpcuser, rpcpassword)
    try:
        result = client.call("faucet", *params)
    except (RPCError, RPCConnectionError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"paid {result['amount']} to {result['address']} in {result['txid']}")


@click.group("wallet")
def wallet_group() -> None:
    """An HD wallet (BIP-39 mnemonic, BIP-32 keys) kept in your data directory."""


def _wallet_path(datadir: str) -> Path:
    return Path(datadir) / WALLET_NAME


def _load(datadir: str) -> Wallet:
    try:
        return Wallet.load(_wallet_path(datadir))
    except WalletError as exc:
        raise click.ClickException(str(exc)) from None


@wallet_group.command("create")
@datadir_option
@click.option(
    "--language",
    type=click.Choice(["english", "french"]),
    default="english",
    show_default=True,
    help="Word list of the mnemonic.",
)
@click.option(
    "--words",
    type=click.Choice(["12", "15", "18", "21", "24"]),
    default="12",
    show_default=True,
    help="Length of the mnemonic.",
)
@network_option
def wallet_create(datadir: str, language: str, words: str, network: str) -> None:
    """Create a wallet with a new mnemonic and print it (write it down)."""
    path = _wallet_path(datadir)
    if path.exists():
        raise click.ClickException(f"{path} already exists: refusing to overwrite a wallet")
    wallet = Wallet.create(language, int(words), network)
    address = wallet.new_address()
    wallet.save(path)
    click.echo(f"mnemonic: {wallet.mnemonic}")
    click.echo(f"first address: {address}")
    click.echo(f"wallet file: {path}")


@wallet_group.command("restore")
@datadir_option
@click.option("--mnemonic", prompt="mnemonic", help="The words (prompted for if not given).")
@click.option("--passphrase", default="", help="The optional BIP-39 passphrase.")
@network_option
def wallet_restore(datadir: str, mnemonic: str, passphrase: str, network: str) -> None:
    """Restore a wallet from its mnemonic."""
    path = _wallet_path(datadir)
    if path.exists():
        raise click.ClickException(f"{path} already exists: refusing to overwrite a wallet")
    try:
        wallet = Wallet.restore(mnemonic, passphrase, network)
    except WalletError as exc:
        raise click.ClickException(str(exc)) from None
    wallet.save(path)
    click.echo(f"restored ({wallet.language}); first address: {wallet.address(0, 0)}")


@wallet_group.command("address")
@datadir_option
def wallet_address(datadir: str) -> None:
    """Print a new receiving address."""
    wallet = _load(datadir)
    address = wallet.new_address()
    wallet.save(_wallet_path(datadir))
    click.echo(address)


@wallet_group.command("balance")
@datadir_option
@_node_options
def wallet_balance(
    datadir: str, rpc_url: str | None, rpcuser: str | None, rpcpassword: str | None
) -> None:
    """Show the wallet's balance, as the node sees it."""
    wallet = _load(datadir)
    try:
        bal = wallet.balance(_client(datadir, rpc_url, rpcuser, rpcpassword))
    except (RPCError, RPCConnectionError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"spendable: {bal['spendable'] / COIN:.8f}")
    click.echo(f"immature:  {bal['immature'] / COIN:.8f}")


@wallet_group.command("send")
@click.argument("address")
@click.argument("amount")
@click.option(
    "--fee-rate",
    type=click.IntRange(1, 10_000),
    default=2,
    show_default=True,
    help="Fee in satoshis per byte.",
)
@datadir_option
@_node_options
def wallet_send(
    address: str,
    amount: str,
    fee_rate: int,
    datadir: str,
    rpc_url: str | None,
    rpcuser: str | None,
    rpcpassword: str | None,
) -> None:
    """Send AMOUNT coins to ADDRESS; print the txid."""
    sats = _coins_to_sats(amount)
    wallet = _load(datadir)
    client = _client(datadir, rpc_url, rpcuser, rpcpassword)
    try:
        txid = wallet.send(client, address, sats, fee_rate)
    except (WalletError, RPCError, RPCConnectionError) as exc:
        raise click.ClickException(str(exc)) from None
    wallet.save(_wallet_path(datadir))
    click.echo(txid)


@wallet_group.command("multisig-address")
@click.argument("m", type=int)
@click.argument("pubkeys", nargs=-1, required=True)
def wallet_multisig(m: int, pubkeys: tuple[str, ...]) -> None:
    """Build a bare M-of-N multisig output script from public keys (hex)."""
    try:
        out = multisig_output(m, list(pubkeys))
    except WalletError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"script: {out['script']}")
    click.echo(f"descriptor: {out['descriptor']}")


ALL_COMMANDS = [node_command, devnet_command, wallet_group, faucet_command]
