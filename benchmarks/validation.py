"""Validation speed: a whole chain validated from scratch against raw signature verification.

1. Generates (not timed) a regtest chain: 100 blocks to mature the first coinbases, then
   `--blocks` blocks (default 1,000) of `--txs` (default 10) signed P2PKH transactions each.
   All 100 + 1,000 blocks are validated in step 2.
2. Validates it from scratch (timed): a fresh data directory, every block parsed from its
   bytes and submitted (`Chain.submit_block`: all consensus checks, every signature, UTXO set,
   undo data and indexes written in one SQLite transaction per block, WAL + synchronous=FULL).
3. Measures in the same run the raw verification rate of the fastest backend (libsecp256k1
   through coincurve, public keys pre-parsed) on the very same signatures and digests.

Prints both rates as signatures per second and their ratio (aim: >= 0.5), for validation with
one SQLite transaction (one disk sync) per block and with 100 blocks per transaction.

Run: .venv/bin/python benchmarks/validation.py [--blocks N] [--txs K]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sandbox_chain import keys, miner
from sandbox_chain.block import Block, merkle_root
from sandbox_chain.chainstate import Chain
from sandbox_chain.hashes import hash160
from sandbox_chain.params import REGTEST
from sandbox_chain.script import MANDATORY_FLAGS, p2pkh_script, push_data
from sandbox_chain.sighash import SIGHASH_ALL, legacy_sighash
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

KEY = keys.PrivateKey.from_int(0xBE7C4)
SEC = KEY.public_key().sec()
SPK = p2pkh_script(hash160(SEC))
FEE = 1_000


def _signer():
    """Sign with libsecp256k1 when available (generation is not timed, only made quicker)."""
    try:
        import coincurve
    except ImportError:
        return KEY.sign
    cc = coincurve.PrivateKey(KEY.to_bytes())
    return lambda digest: cc.sign(digest, hasher=None)


def generate(datadir: Path, n_blocks: int, n_txs: int) -> tuple[list[bytes], list[tuple]]:
    """Mine the chain; return the raw blocks and every (pubkey, DER sig, digest) signed.

    Coinbases pay 10 outputs, so from block 101 on there are always enough mature coins.
    """
    sign = _signer()
    sigs = []
    chain = Chain.open(datadir, REGTEST)
    t0 = 1_700_000_000
    chain.clock = lambda: t0 + 10**7
    raws = []
    pool: list[tuple[int, OutPoint, int]] = []  # (spendable from height, outpoint, value)
    for height in range(1, 101 + n_blocks):
        txs = []
        ready = [p for p in pool if p[0] <= height][: n_txs if height > 100 else 0]
        for p in ready:
            pool.remove(p)
            _, op, value = p
            half = (value - FEE) // 2
            tx = Transaction(1, [TxIn(op, b"")], [TxOut(half, SPK), TxOut(half, SPK)], 0)
            digest = legacy_sighash(tx, 0, SPK, SIGHASH_ALL)
            der = sign(digest)
            tx.vin[0].script_sig = push_data(der + bytes([SIGHASH_ALL])) + push_data(SEC)
            sigs.append((SEC, der, digest))
            txs.append(tx)
            txid = tx.txid()
            pool += [(height + 1, OutPoint(txid, 0), half), (height + 1, OutPoint(txid, 1), half)]
        block = miner.create_block_template(chain, SPK, time=t0 + 60 * height, extra_txs=txs)
        cb = block.txs[0]
        share = (cb.vout[0].value + FEE * len(txs)) // 10
        cb.vout = [TxOut(share, SPK) for _ in range(10)]
        block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
        block = miner.solve_block(block, chain)
        if chain.submit_block(block) != "accepted":
            raise SystemExit("generated block was not accepted")
        cbid = cb.txid()
        pool += [(height + 100, OutPoint(cbid, n), share) for n in range(10)]
        raws.append(block.serialize())
    chain.close()
    return raws, sigs


def validate(datadir: Path, raws: list[bytes], batch: int, skip_scripts: bool = False) -> float:
    """Validate every block from scratch into a fresh data directory; return seconds.

    batch=1: `submit_block`, one transaction (one disk sync) per block.
    batch>1: `submit_blocks`, that many blocks per transaction (bulk import).
    """
    chain = Chain.open(datadir, REGTEST)
    chain.clock = lambda: 1_700_000_000 + 10**7
    if skip_scripts:  # breakdown only: as if every script had passed in the mempool before
        for raw in raws:
            for tx in Block.parse(raw).txs:
                chain.script_cache.add((tx.txid(), MANDATORY_FLAGS))
    start = time.perf_counter()
    for i in range(0, len(raws), batch):
        blocks = [Block.parse(raw) for raw in raws[i : i + batch]]
        if batch == 1:
            results = [chain.submit_block(blocks[0])]
        else:
            results = chain.submit_blocks(blocks)
        if results != ["accepted"] * len(blocks):
            raise SystemExit("benchmark chain did not validate")
    elapsed = time.perf_counter() - start
    chain.close()
    return elapsed


def raw_verify_rate(sigs: list[tuple]) -> tuple[float, str]:
    """Signatures per second of the fastest backend alone, public keys parsed once."""
    try:
        import coincurve
    except ImportError:
        start = time.perf_counter()
        for pub, der, digest in sigs:
            keys.verify_signature(pub, der, digest, backend="ecdsa")
        return len(sigs) / (time.perf_counter() - start), "ecdsa"
    parsed = {pub: coincurve.PublicKey(pub) for pub, _, _ in sigs}
    start = time.perf_counter()
    for pub, der, digest in sigs:
        if not parsed[pub].verify(der, digest, hasher=None):
            raise SystemExit("a benchmark signature does not verify")
    return len(sigs) / (time.perf_counter() - start), "libsecp256k1 (coincurve)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=1000)
    ap.add_argument("--txs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        raws, sigs = generate(Path(tmp) / "gen", args.blocks, args.txs)
        print(
            f"generated {len(raws)} blocks, {len(sigs)} signed transactions "
            f"in {time.perf_counter() - t:.1f} s (not timed)"
        )
        raw_rate, backend = raw_verify_rate(sigs)
        timings = {b: validate(Path(tmp) / f"fresh{b}", raws, b) for b in (1, 100)}
        no_scripts = validate(Path(tmp) / "noscripts", raws, 100, skip_scripts=True)
        t = time.perf_counter()
        for pub, der, digest in sigs:
            keys.verify_signature(pub, der, digest)
        node_verify_rate = len(sigs) / (time.perf_counter() - t)
        raw_rate2, _ = raw_verify_rate(sigs)  # again after: the machine is shared
        raw_rate = max(raw_rate, raw_rate2)
    print(f"node backend: {keys.get_backend()}")
    print(f"raw verification ({backend}): {raw_rate:.0f} signatures/s")
    for b, elapsed in timings.items():
        node_rate = len(sigs) / elapsed
        mode = "one transaction per block" if b == 1 else f"{b} blocks per transaction"
        print(
            f"validation from scratch, {mode}: {elapsed:.2f} s, {len(raws) / elapsed:.0f} "
            f"blocks/s, {node_rate:.0f} signatures/s, ratio {node_rate / raw_rate:.2f} "
            "(aim >= 0.5)"
        )
    batched = timings[100]
    print(
        f"breakdown (100 blocks per transaction): scripts {batched - no_scripts:.2f} s, "
        f"everything else (parsing, checks, UTXO, SQLite) {no_scripts:.2f} s; "
        f"keys.verify_signature alone: {node_verify_rate:.0f} signatures/s "
        f"({node_verify_rate / raw_rate:.2f} of raw)"
    )


if __name__ == "__main__":
    main()
