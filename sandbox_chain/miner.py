"""The miner: a block template from the mempool, a coinbase, and the nonce search.

Follows Bitcoin Core `node/miner.cpp` (`BlockAssembler::CreateNewBlock`: transactions by
ancestor fee rate, parents first, within the size and sigop limits; a coinbase paying subsidy
plus fees whose scriptSig starts with the BIP34 height) and `rpc/mining.cpp`
(`generatetoaddress`: solve, and bump the extranonce when a nonce range runs out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .block import Block, BlockHeader, merkle_root
from .pow import solve_header
from .script import push_data
from .transaction import NULL_INDEX, NULL_TXID, OutPoint, Transaction, TxIn, TxOut
from .validation import (
    MAX_BLOCK_SIGOPS_COST,
    MAX_BLOCK_WEIGHT,
    WITNESS_SCALE_FACTOR,
    bip34_height_script,
    block_subsidy,
    tx_legacy_sigops,
)

if TYPE_CHECKING:
    from .chainstate import Chain
    from .params import NetworkParams

BLOCK_VERSION = 0x20000000  # BIP9 top bits, no deployment signalled
# Room kept for the header and the coinbase when filling a template (Core reserves 4,000 WU).
COINBASE_RESERVED_SIZE = 1_000
NONCE_TRIES = 1 << 20  # nonces tried before the extranonce is bumped


EXTRANONCE_SIZE = 4  # bytes pushed after the BIP34 height in the coinbase scriptSig


def coinbase_transaction(
    height: int, script_pubkey: bytes, value: int, extranonce: int = 0
) -> Transaction:
    """The coinbase of a block at `height`: BIP34 height, an extranonce, `value` to the script."""
    return _coinbase(bip34_height_script(height), script_pubkey, value, extranonce)


def _coinbase(height_push: bytes, script_pubkey: bytes, value: int, extranonce: int) -> Transaction:
    script_sig = height_push + push_data(extranonce.to_bytes(EXTRANONCE_SIZE, "little"))
    return Transaction(
        version=2,
        vin=[TxIn(OutPoint(NULL_TXID, NULL_INDEX), script_sig, 0xFFFFFFFF)],
        vout=[TxOut(value, script_pubkey)],
        locktime=0,
    )


def create_block_template(
    chain: Chain,
    coinbase_script: bytes,
    *,
    time: int | None = None,
    extra_txs: Sequence[Transaction] | None = None,
) -> Block:
    """An unsolved block on the tip: mempool transactions (or `extra_txs`) and the coinbase.

    `extra_txs`, when given, are used as they are and in this order (a teaching tool: build a
    block by hand); their fees are not computed, so the coinbase claims the subsidy only.
    """
    height = chain.height + 1
    mtp = chain.median_time_past()
    # The chain's clock (real time, unless a test fixed it); never before the median time past.
    block_time = max(mtp + 1, int(chain.clock()) if time is None else time)
    fees = 0
    if extra_txs is not None:
        txs = list(extra_txs)
    else:
        max_size = MAX_BLOCK_WEIGHT // WITNESS_SCALE_FACTOR - COINBASE_RESERVED_SIZE
        max_sigops = MAX_BLOCK_SIGOPS_COST // WITNESS_SCALE_FACTOR - 100
        entries = chain.mempool.block_template(max_size, max_sigops)
        txs = [e.tx for e in entries]
        fees = sum(e.fee for e in entries)
    value = block_subsidy(height, chain.params) + fees
    coinbase = coinbase_transaction(height, coinbase_script, value)
    all_txs = [coinbase, *txs]
    root, _ = merkle_root([tx.txid() for tx in all_txs])
    header = BlockHeader(
        version=BLOCK_VERSION,
        prev_hash=chain.tip,
        merkle_root=root,
        time=block_time,
        bits=chain.next_bits(chain.tip, block_time),
        nonce=0,
    )
    return Block(header, all_txs)


def solve_template(block: Block, params: NetworkParams) -> Block:
    """Search nonces; when a range is exhausted bump the extranonce (new Merkle root).

    Needs only the template and the network's parameters (not the chain), so a node can run
    it outside its chain thread. The template's coinbase must be one `coinbase_transaction`
    built: its scriptSig is the BIP34 height push followed by the extranonce push.
    """
    extranonce = 0
    height_push = block.txs[0].vin[0].script_sig[: -(EXTRANONCE_SIZE + 1)]
    while True:
        solved = solve_header(block.header, params, max_tries=NONCE_TRIES)
        if solved is not None:
            block.header = solved
            return block
        extranonce += 1
        cb = block.txs[0]
        block.txs[0] = _coinbase(
            height_push, cb.vout[0].script_pubkey, cb.vout[0].value, extranonce
        )
        root, _ = merkle_root([tx.txid() for tx in block.txs])
        block.header.merkle_root = root
        block.header.nonce = 0


def solve_block(block: Block, chain: Chain) -> Block:
    """`solve_template` with the parameters of `chain` (a template built on it)."""
    return solve_template(block, chain.params)


def mine_block(
    chain: Chain,
    coinbase_script: bytes,
    *,
    time: int | None = None,
    extra_txs: Sequence[Transaction] | None = None,
) -> Block:
    """Build a template, solve it and submit it; return the block (raises ValidationError)."""
    block = solve_block(
        create_block_template(chain, coinbase_script, time=time, extra_txs=extra_txs), chain
    )
    chain.submit_block(block)
    return block


def generate_to_script(chain: Chain, script_pubkey: bytes, n: int) -> list[bytes]:
    """Mine `n` blocks paying to `script_pubkey` (Core's `generatetoaddress`); return hashes."""
    return [mine_block(chain, script_pubkey).hash() for _ in range(n)]


def template_sigops(block: Block) -> int:
    """Legacy sigops of a block's transactions (what the template limit counts)."""
    return sum(tx_legacy_sigops(tx) for tx in block.txs)
