"""`lune chain …`: the sandbox chain from the command line (a thin shell over the library).

Every command opens the chain in `--datadir` (default: the demo's chain, so `lune demo` then
`lune chain info` shows what the demo mined), does one thing, and closes it. Bad input ends
with a one-line message and a non-zero exit; a refused block or transaction shows Bitcoin
Core's reject reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from .clioptions import datadir_option, network_option
from .encoding import hash_to_hex, hex_to_hash
from .errors import ChainError, ParseError, ValidationError


@contextmanager
def open_chain(datadir: str, network: str) -> Iterator:
    """Open the chain for one command; library errors become one-line CLI errors."""
    from .chainstate import Chain
    from .params import get_params

    try:
        chain = Chain.open(datadir, get_params(network))
    except ChainError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield chain
    except ValidationError as exc:
        raise click.ClickException(
            f"rejected: {exc.reason}" + (f" ({exc.message})" if exc.message else "")
        ) from exc
    except ChainError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        chain.close()


def _script_for(address: str | None, network: str) -> bytes:
    from .address import decode_address
    from .hashes import hash160
    from .keys import demo_key
    from .script import p2pkh_script

    if address is None:
        return p2pkh_script(hash160(demo_key().public_key().sec()))
    try:
        return decode_address(address, network)
    except ChainError as exc:
        raise click.BadParameter(f"not a {network} address: {address}") from exc


def _parse_hash(text: str, what: str) -> bytes:
    try:
        return hex_to_hash(text)
    except (ParseError, ValueError) as exc:
        raise click.BadParameter(f"{what} must be 64 hex digits") from exc


@click.group()
def chain() -> None:
    """The sandbox chain: mine, inspect and run nodes."""


@chain.command()
@datadir_option
@network_option
def info(datadir: str, network: str) -> None:
    """Show the tip, height, mempool and chain tips."""
    with open_chain(datadir, network) as c:
        click.echo(f"network:   {c.params.name}")
        click.echo(f"height:    {c.height}")
        click.echo(f"tip:       {hash_to_hex(c.tip)}")
        click.echo(f"mempool:   {len(c.mempool)} transactions")
        click.echo(f"utxos:     {c.utxo_count()}")
        for tip in c.chain_tips():
            click.echo(
                f"chain tip: {hash_to_hex(tip.hash)} height {tip.height} "
                f"branchlen {tip.branchlen} {tip.status}"
            )


@chain.command()
@datadir_option
@network_option
@click.option(
    "--blocks",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="How many blocks to mine.",
)
@click.option(
    "--address", default=None, help="Pay the coinbase to this address (default: demo key)."
)
def mine(datadir: str, network: str, blocks: int, address: str | None) -> None:
    """Mine blocks on the tip (mempool transactions included) and print their hashes."""
    from .miner import generate_to_script

    script = _script_for(address, network)
    with open_chain(datadir, network) as c:
        for h in generate_to_script(c, script, blocks):
            click.echo(hash_to_hex(h))


@chain.command()
@datadir_option
@network_option
@click.argument("block_id")
def block(datadir: str, network: str, block_id: str) -> None:
    """Show a block by height or hash: header fields and txids."""
    with open_chain(datadir, network) as c:
        if block_id.isdigit():
            h = c.get_block_hash(int(block_id))
            if h is None:
                raise click.BadParameter(f"no block at height {block_id} (tip is {c.height})")
        else:
            h = _parse_hash(block_id, "block hash")
        blk = c.get_block(h)
        meta = c.get_header_info(h)
        if blk is None or meta is None:
            raise click.ClickException(f"block {block_id} not found")
        hd = blk.header
        click.echo(f"hash:        {hash_to_hex(h)}")
        click.echo(f"height:      {meta.height} ({meta.status})")
        click.echo(f"prev:        {hash_to_hex(hd.prev_hash)}")
        click.echo(f"merkle root: {hash_to_hex(hd.merkle_root)}")
        click.echo(f"time:        {hd.time}")
        click.echo(f"bits:        {hd.bits:08x}")
        click.echo(f"nonce:       {hd.nonce}")
        click.echo(f"chainwork:   {meta.chainwork:064x}")
        click.echo(f"size:        {blk.size()} bytes, {len(blk.txs)} transactions")
        for tx in blk.txs:
            click.echo(f"  tx {tx.txid_hex}")


@chain.command()
@datadir_option
@network_option
@click.argument("txid")
def tx(datadir: str, network: str, txid: str) -> None:
    """Show a transaction (mempool or chain): inputs, outputs, where it is."""
    with open_chain(datadir, network) as c:
        found = c.get_transaction(_parse_hash(txid, "txid"))
        if found is None:
            raise click.ClickException(f"transaction {txid} not found")
        t, where = found
        click.echo(f"txid:     {t.txid_hex}")
        click.echo(f"in block: {hash_to_hex(where) if where else 'mempool'}")
        click.echo(f"version {t.version}, locktime {t.locktime}, {t.size()} bytes")
        for i, txin in enumerate(t.vin):
            click.echo(f"  in  {i}: {txin.prevout} scriptSig {txin.script_sig.hex()}")
        for i, out in enumerate(t.vout):
            click.echo(f"  out {i}: {out.value} sat scriptPubKey {out.script_pubkey.hex()}")
        click.echo(f"raw: {t.hex()}")


@chain.command()
@datadir_option
@network_option
@click.argument("address", required=False)
def balance(datadir: str, network: str, address: str | None) -> None:
    """List the unspent outputs of an address (default: the demo key) and their total."""
    script = _script_for(address, network)
    with open_chain(datadir, network) as c:
        coins = c.utxos_for_script(script)
        spendable = 0
        for op, coin in coins:
            mature = (
                not coin.is_coinbase or c.height + 1 - coin.height >= c.params.coinbase_maturity
            )
            spendable += coin.value if mature else 0
            flag = "" if mature else " (immature coinbase)"
            click.echo(f"{op} {coin.value} sat height {coin.height}{flag}")
        click.echo(f"total: {sum(cn.value for _, cn in coins)} sat, spendable: {spendable} sat")


@chain.command()
@datadir_option
@network_option
@click.argument("raw_hex")
def submit(datadir: str, network: str, raw_hex: str) -> None:
    """Submit a raw transaction (hex) to the mempool; print its txid or Core's reject reason."""
    from .transaction import Transaction

    try:
        t = Transaction.from_hex(raw_hex.strip())
    except ParseError as exc:
        raise click.BadParameter(f"not a transaction: {exc}") from exc
    with open_chain(datadir, network) as c:
        click.echo(hash_to_hex(c.accept_to_mempool(t)))


@chain.command()
@datadir_option
@network_option
@click.option("--to", "to_address", required=True, help="Address to pay.")
@click.option("--amount", type=click.IntRange(1), required=True, help="Satoshis to send.")
@click.option(
    "--fee-rate",
    type=click.IntRange(1, 10_000),
    default=2,
    show_default=True,
    help="Fee in satoshis per byte.",
)
def send(datadir: str, network: str, to_address: str, amount: int, fee_rate: int) -> None:
    """Pay from the demo key to an address (a signed P2PKH transaction into the mempool)."""
    from .keys import demo_key
    from .wallet import WalletError, build_transaction, chain_coins

    dest = _script_for(to_address, network)
    change_script = _script_for(None, network)
    with open_chain(datadir, network) as c:
        # The wallet's rules: mature coins the mempool does not spend yet, largest first,
        # change below the dust limit left to the miner.
        coins, _ = chain_coins(c, [change_script])
        try:
            t = build_transaction(coins, [(dest, amount)], change_script, fee_rate, [demo_key()])
        except WalletError as exc:
            raise click.ClickException(
                f"the demo key cannot pay: {exc} (mine more blocks)"
            ) from None
        click.echo(hash_to_hex(c.accept_to_mempool(t)))


# The node, devnet, wallet and faucet commands live with the node (sandbox_chain/node/cli.py).
from .node.cli import ALL_COMMANDS as _NODE_COMMANDS  # noqa: E402

for _command in _NODE_COMMANDS:
    chain.add_command(_command)
