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
one SQLite transaction (one disk sync) per block and with 100 blocks per transaction, in wall
clock and in CPU time (steadier on a shared machine), and where the CPU time goes.

The hot path being measured: `Transaction.read` reads legacy transactions straight from the
bytes; `check_block` serializes each transaction once (txid, Merkle root, size, storage);
`connect_block` runs standard P2PKH inputs through `input_check`'s fast path (the
interpreter's exact checks in one function, SIGHASH_ALL digests from a per-transaction
cache); while a block is connected only their shape is looked at, and the rest of their
checks (HASH160, signature encoding and hash, signature) goes to `checkqueue`'s worker process
(the second core) while the block's rows are written to SQLite; the blocks are kept only after
every queued check passed (with 100 blocks per transaction, the answers are collected before the
COMMIT). CPU time is this process's plus the worker's, so the queue helps the wall-clock
ratio only; the run with `Chain.queue_checks = False` shows the difference.

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


class Timer:
    """Wall-clock and CPU seconds of a block of code.

    The machine may be shared: wall time then includes waiting for a core, CPU time does not
    (but neither does waiting for the disk to sync). Both are reported.
    """

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def validate(
    datadir: Path,
    raws: list[bytes],
    batch: int,
    skip_scripts: bool = False,
    queue_checks: bool = True,
) -> Timer:
    """Validate every block from scratch into a fresh data directory; return its timer.

    batch=1: `submit_block`, one transaction (one disk sync) per block.
    batch>1: `submit_blocks`, that many blocks per transaction (bulk import).
    queue_checks=False: every signature verified in line, on this thread.
    """
    chain = Chain.open(datadir, REGTEST)
    chain.clock = lambda: 1_700_000_000 + 10**7
    chain.queue_checks = queue_checks
    if skip_scripts:  # breakdown only: as if every script had passed in the mempool before
        for raw in raws:
            for tx in Block.parse(raw).txs:
                chain.script_cache.add((tx.txid(), MANDATORY_FLAGS))
    with Timer() as timer:
        for i in range(0, len(raws), batch):
            blocks = [Block.parse(raw) for raw in raws[i : i + batch]]
            if batch == 1:
                results = [chain.submit_block(blocks[0])]
            else:
                results = chain.submit_blocks(blocks)
            if results != ["accepted"] * len(blocks):
                raise SystemExit("benchmark chain did not validate")
    # The check queue's worker process verified signatures on its own CPU time (start-up
    # included): count it, so the CPU figures are the whole work done.
    timer.cpu += chain._checks.worker_cpu
    chain.close()
    return timer


def raw_verify(sigs: list[tuple]) -> tuple[Timer, str]:
    """The fastest backend alone on the same signatures, public keys parsed once."""
    try:
        import coincurve
    except ImportError:
        with Timer() as timer:
            for pub, der, digest in sigs:
                keys.verify_signature(pub, der, digest, backend="ecdsa")
        return timer, "ecdsa"
    parsed = {pub: coincurve.PublicKey(pub) for pub, _, _ in sigs}
    with Timer() as timer:
        for pub, der, digest in sigs:
            if not parsed[pub].verify(der, digest, hasher=None):
                raise SystemExit("a benchmark signature does not verify")
    return timer, "libsecp256k1 (coincurve)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=1000)
    ap.add_argument("--txs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with Timer() as gen:
            raws, sigs = generate(Path(tmp) / "gen", args.blocks, args.txs)
        print(
            f"generated {len(raws)} blocks, {len(sigs)} signed transactions "
            f"in {gen.wall:.1f} s (not timed)"
        )
        raw1, backend = raw_verify(sigs)
        timings = {b: validate(Path(tmp) / f"fresh{b}", raws, b) for b in (1, 100)}
        in_line = validate(Path(tmp) / "inline", raws, 100, queue_checks=False)
        no_scripts = validate(Path(tmp) / "noscripts", raws, 100, skip_scripts=True)
        with Timer() as node_verify:
            for pub, der, digest in sigs:
                keys.verify_signature(pub, der, digest)
        raw2, _ = raw_verify(sigs)  # again after: the machine is shared, keep the best
    n = len(sigs)
    raw_wall = n / min(raw1.wall, raw2.wall)
    raw_cpu = n / min(raw1.cpu, raw2.cpu)
    print(f"node backend: {keys.get_backend()}")
    print(
        "hot path: legacy transactions read straight from the bytes; each serialized once; "
        "standard P2PKH inputs checked by input_check's fast path (the interpreter's exact "
        "checks, cached SIGHASH_ALL pieces) run by a worker process (checkqueue) while the "
        "block's rows are written; anything else, and any failure, through the interpreter"
    )
    print(
        f"raw verification ({backend}): {raw_wall:.0f} signatures/s wall clock, "
        f"{raw_cpu:.0f} per CPU second"
    )
    for b, t in timings.items():
        mode = "one transaction per block" if b == 1 else f"{b} blocks per transaction"
        print(
            f"validation from scratch, {mode}: {t.wall:.2f} s wall ({len(raws) / t.wall:.0f} "
            f"blocks/s, {n / t.wall:.0f} signatures/s, ratio {n / t.wall / raw_wall:.2f}), "
            f"{t.cpu:.2f} CPU s (ratio {n / t.cpu / raw_cpu:.2f}); aim >= 0.5"
        )
    print(
        f"same, 100 blocks per transaction, signatures verified in line (no worker process): "
        f"{in_line.wall:.2f} s wall (ratio {n / in_line.wall / raw_wall:.2f}), "
        f"{in_line.cpu:.2f} CPU s (ratio {n / in_line.cpu / raw_cpu:.2f})"
    )
    print(
        f"breakdown, CPU s, 100 blocks per transaction, in line: scripts "
        f"{in_line.cpu - no_scripts.cpu:.2f}"
        f", everything else (parsing, checks, UTXO, SQLite) {no_scripts.cpu:.2f}; "
        f"keys.verify_signature alone {node_verify.cpu:.2f} "
        f"({n / node_verify.cpu / raw_cpu:.2f} of the raw rate)"
    )


if __name__ == "__main__":
    main()
