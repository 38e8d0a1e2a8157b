"""Child process of test_crash.py: mine and accept transactions until killed.

Prints "ready" once the chain is open, then, after each block's COMMIT (submit_block has
returned), the block hash in hex: a printed hash is an acknowledged block.
Usage: crash_child.py DATADIR SEED
"""

from __future__ import annotations

import random
import sys
import time

from sandbox_chain import miner
from sandbox_chain.block import Block, BlockHeader, merkle_root
from sandbox_chain.chainstate import Chain
from sandbox_chain.errors import ValidationError
from sandbox_chain.hashes import hash160
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import REGTEST
from sandbox_chain.pow import solve_header
from sandbox_chain.script import p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

KEY = PrivateKey.from_int(0xC0FFEE)
SPK = p2pkh_script(hash160(KEY.public_key().sec()))


def main() -> None:
    datadir, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    chain = Chain.open(datadir, REGTEST)
    # Thousands of blocks a second push block times ahead of the wall clock (each must follow
    # the median time past): a clock far ahead keeps "time-too-new" out of a long soak.
    chain.clock = lambda: time.time() + 10**7
    print("ready", flush=True)
    while True:
        spent = set(chain.mempool.spenders)
        coins = [
            (op, c)
            for op, c in chain.utxos_for_script(SPK)
            if (not c.is_coinbase or chain.height + 1 - c.height >= 100)
            and (op.txid, op.vout) not in spent
        ]
        for op, coin in rng.sample(coins, min(len(coins), rng.randint(0, 3))):
            half = (coin.value - 1_000) // 2
            tx = Transaction(
                1, [TxIn(OutPoint(op.txid, op.vout), b"")], [TxOut(half, SPK), TxOut(half, SPK)], 0
            )
            sign_p2pkh_input(tx, 0, KEY, coin.script_pubkey)
            try:
                chain.accept_to_mempool(tx)
            except ValidationError as exc:  # pragma: no cover - would be a bug
                print(f"error {exc}", flush=True)
        if chain.height > 5 and rng.random() < 0.1:
            # Now and then a heavier fork from two blocks back: the kill may land in a reorg.
            for block in fork(chain, rng):
                chain.submit_block(block)
                print(block.hash().hex(), flush=True)
        block = miner.mine_block(chain, SPK)
        print(block.hash().hex(), flush=True)


def fork(chain: Chain, rng: random.Random) -> list:
    """Three blocks on the tip's grandparent (coinbase only): one more than the active branch."""
    blocks = []
    prev = chain.get_block_hash(chain.height - 2)
    height = chain.height - 1
    t = chain.get_header_info(chain.tip).time + 1
    for i in range(3):
        cb = miner.coinbase_transaction(
            height + i, SPK, 50 * 10**8 >> ((height + i) // 150), extranonce=rng.randrange(1, 2**32)
        )
        header = BlockHeader(
            miner.BLOCK_VERSION, prev, merkle_root([cb.txid()])[0], t + i, REGTEST.pow_limit_bits, 0
        )
        block = Block(solve_header(header, REGTEST), [cb])  # regtest: a few tries at most
        blocks.append(block)
        prev = block.hash()
    return blocks


if __name__ == "__main__":
    main()
