"""Helpers shared by the chain-state tests: a funded regtest chain, signed spends, snapshots."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from sandbox_chain import miner
from sandbox_chain.block import Block, merkle_root
from sandbox_chain.chainstate import Chain
from sandbox_chain.hashes import hash160
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import REGTEST
from sandbox_chain.pow import solve_header
from sandbox_chain.script import p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut
from sandbox_chain.utxo import Coin

KEY = PrivateKey.from_int(0x1EE7)
OTHER_KEY = PrivateKey.from_int(0xB0B)
SPK = p2pkh_script(hash160(KEY.public_key().sec()))
OTHER_SPK = p2pkh_script(hash160(OTHER_KEY.public_key().sec()))
FUNDED_BLOCKS = 110  # coinbases of heights 1..11 are mature at the next block
BASE_TIME = 1_700_000_000


_FORK_COUNTER = [1000]


def open_chain(datadir: Path) -> Chain:
    """A regtest chain whose clock is fixed just after the last block (deterministic times)."""
    chain = Chain.open(datadir, REGTEST)
    chain.clock = lambda: BASE_TIME + 10_000_000
    return chain


def build_funded_chain(datadir: Path, blocks: int = FUNDED_BLOCKS) -> None:
    """Mine `blocks` blocks to SPK at fixed one-minute intervals, then close."""
    chain = open_chain(datadir)
    for i in range(blocks):
        miner.mine_block(chain, SPK, time=BASE_TIME + 60 * (i + 1))
    chain.close()


def copy_chain(template: Path, dest: Path) -> Chain:
    """Open a private copy of a closed template data directory."""
    shutil.copytree(template, dest)
    (dest / "LOCK").unlink(missing_ok=True)
    return open_chain(dest)


def next_time(chain: Chain) -> int:
    """A block time one minute after the tip's."""
    return chain.get_header_info(chain.tip).time + 60


def mature_coins(chain: Chain) -> list[tuple[OutPoint, Coin]]:
    """Coins paid to SPK that a transaction in the next block may spend."""
    out = []
    for op, coin in chain.utxos_for_script(SPK):
        if not coin.is_coinbase or chain.height + 1 - coin.height >= 100:
            out.append((op, coin))
    return out


def spend(
    coins: list[tuple[OutPoint, Coin]],
    outputs: list[tuple[int, bytes]],
    *,
    key: PrivateKey = KEY,
    locktime: int = 0,
    sequence: int = 0xFFFFFFFF,
) -> Transaction:
    """A transaction spending `coins` (P2PKH to `key`) into `outputs`, signed SIGHASH_ALL."""
    tx = Transaction(
        version=1,
        vin=[TxIn(OutPoint(op.txid, op.vout), b"", sequence) for op, _ in coins],
        vout=[TxOut(v, s) for v, s in outputs],
        locktime=locktime,
    )
    for i, (_, coin) in enumerate(coins):
        sign_p2pkh_input(tx, i, key, coin.script_pubkey)
    return tx


def pay(chain: Chain, coin_index: int = 0, fee: int = 10_000, to: bytes = SPK) -> Transaction:
    """Spend one mature coin to `to`, leaving `fee`."""
    op, coin = mature_coins(chain)[coin_index]
    return spend([(op, coin)], [(coin.value - fee, to)])


def outpoint_of(tx: Transaction, vout: int = 0) -> tuple[OutPoint, Coin]:
    """(outpoint, coin) of an output of an unconfirmed transaction (height unknown: 0)."""
    out = tx.vout[vout]
    return OutPoint(tx.txid(), vout), Coin(out.value, out.script_pubkey, 0, False)


def solve(block: Block) -> Block:
    """Recompute nothing: just find a nonce for the header as it is."""
    header = solve_header(replace(block.header, nonce=0), REGTEST)
    return Block(header, block.txs)


def build_block(
    chain: Chain,
    txs: list[Transaction] | None = None,
    *,
    coinbase_value: int | None = None,
    time: int | None = None,
    fix_merkle: bool = True,
    prev: bytes | None = None,
) -> Block:
    """A solved block on the tip (or on `prev`) holding `txs` after a proper coinbase."""
    block = miner.create_block_template(
        chain, SPK, time=time or next_time(chain), extra_txs=txs or []
    )
    if prev is not None:
        info = chain.get_header_info(prev)
        # A fresh extranonce, so a fork block never equals the block already at that height.
        _FORK_COUNTER[0] += 1
        cb = miner.coinbase_transaction(
            info.height + 1, SPK, block.txs[0].vout[0].value, extranonce=_FORK_COUNTER[0]
        )
        block.txs[0] = cb
        block.header.prev_hash = prev
        block.header.time = info.time + 60
    if time is not None:
        block.header.time = time  # even a time the template would have refused
    if coinbase_value is not None:
        block.txs[0].vout[0].value = coinbase_value
    if fix_merkle:
        block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


@dataclass(frozen=True)
class Snapshot:
    """Everything a rejected block or transaction must leave unchanged."""

    tip: bytes
    height: int
    utxos: dict
    mempool: frozenset


def snapshot(chain: Chain) -> Snapshot:
    """Tip, UTXO set (from the database) and mempool contents."""
    return Snapshot(chain.tip, chain.height, chain.utxo_snapshot(), chain.mempool.snapshot())


_TEMPLATES: dict[int, Path] = {}


def funded_template(tmp_path_factory, blocks: int = FUNDED_BLOCKS) -> Path:
    """A closed funded data directory, built once per test session and copied by each test."""
    if blocks not in _TEMPLATES:
        path = tmp_path_factory.mktemp(f"funded{blocks}") / "chain"
        build_funded_chain(path, blocks)
        _TEMPLATES[blocks] = path
    return _TEMPLATES[blocks]
