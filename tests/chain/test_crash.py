"""Crash safety: a chain killed with SIGKILL at random moments reopens consistent.

A child process (crash_child.py) mines blocks, accepts transactions and now and then submits a
heavier fork (a reorg) on one data directory; it prints each block hash after its COMMIT. The
parent kills it at a random moment, then checks: SQLite's integrity check passes, every
acknowledged block is stored (on the active chain, or on a fork a later reorg left behind),
prev-hash links run intact from the tip to genesis, and the UTXO set equals a replay of the
stored blocks from genesis. `LUNE_CRASH_TRIALS` sets the number of kills (default 30).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox_chain.chainstate import Chain
from sandbox_chain.params import REGTEST
from sandbox_chain.utxo import CoinsViewCache, MemoryCoins
from sandbox_chain.validation import check_block, connect_block

CHILD = Path(__file__).with_name("crash_child.py")
TRIALS = int(os.environ.get("LUNE_CRASH_TRIALS", "30"))


def _run_and_kill(datadir: Path, seed: int, rng: random.Random, first_blocks: int) -> list[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(datadir), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = proc.stdout.readline()
        assert first == b"ready\n", first + proc.stderr.read()
        # Let a few blocks through (105 in the first trial, so coinbases mature and later
        # trials make transactions), then kill at a random moment.
        early = []
        for _ in range(first_blocks):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            early.append(line)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        out = b"".join(early) + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err.decode()
    # A line cut by the kill is not an acknowledgement: only complete lines count.
    lines = out.decode().split("\n")[:-1]
    assert not [ln for ln in lines if ln.startswith("error")], lines
    return [bytes.fromhex(ln) for ln in lines if len(ln) == 64]


def _replay(chain: Chain) -> dict:
    coins = MemoryCoins()
    for height in range(1, chain.height + 1):
        checked = check_block(chain.get_block(chain.get_block_hash(height)), REGTEST)
        view = CoinsViewCache(coins)
        connect_block(checked, height, view, REGTEST, flags=0)
        view.flush_into(coins)
    return dict(coins.coins)


def _check(datadir: Path, acked: list[bytes]) -> tuple[int, int]:
    with Chain.open(datadir, REGTEST) as chain:
        assert chain.storage.integrity_check() == "ok"
        for h in acked:  # stored: active, or on a fork (a side branch, or one reorged away)
            info = chain.get_header_info(h)
            assert info is not None and info.status != "invalid", h[::-1].hex()
            assert chain.get_block(h) is not None
        h, height = chain.tip, chain.height
        while height > 0:
            block = chain.get_block(h)
            assert block is not None and chain.get_block_hash(height) == h
            h, height = block.header.prev_hash, height - 1
        assert h == REGTEST.genesis_hash
        assert chain.utxo_snapshot() == _replay(chain)
        return chain.height, len(chain.chain_tips())


@pytest.mark.crash
def test_sigkill_at_random_moments_never_corrupts_the_chain(tmp_path):
    seed = random.randrange(2**32)
    rng = random.Random(seed)  # named in the failure report, to replay a run
    datadir = tmp_path / "chain"
    Chain.open(datadir, REGTEST).close()
    acked_total: list[bytes] = []
    heights = []
    for trial in range(TRIALS):
        try:
            first_blocks = 105 if trial == 0 else rng.randint(1, 10)
            acked_total += _run_and_kill(datadir, trial, rng, first_blocks)
            height, n_tips = _check(datadir, acked_total)
            heights.append(height)
        except AssertionError as exc:
            raise AssertionError(f"trial {trial} of run seed {seed}: {exc}") from exc
    # The chain grew past coinbase maturity, so the later trials also made transactions.
    assert heights[-1] >= 105, heights
    assert n_tips > 1  # forks were submitted, so reorgs were among the moments killed
