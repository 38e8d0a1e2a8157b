"""Signatures verified by the check queue's worker: same answers, same first error, no leaks.

Blocks are connected with standard signatures queued on `checkqueue.SignatureChecks` (here
with `min_batch = 1`, so even one signature goes to the worker process); a queued failure
makes the chain validate again in line. These tests check that the error reported is the one
the sequential order gives (a bad signature early in the block wins over a fault found later,
as it does without the queue; in `submit_blocks`, the blocks before a bad one are kept), that
nothing of a rejected block stays in the state or the script cache, and that the queue itself
answers, resets, survives its worker's death and stops it on close.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from chainkit import (
    KEY,
    OTHER_KEY,
    SPK,
    build_block,
    copy_chain,
    funded_template,
    mature_coins,
    next_time,
    pay,
    snapshot,
)

from sandbox_chain import checkqueue, miner
from sandbox_chain.checkqueue import SignatureChecks
from sandbox_chain.errors import ValidationError
from sandbox_chain.script import MANDATORY_FLAGS, push_data
from sandbox_chain.sighash import SIGHASH_ALL, legacy_sighash, sign_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut


@pytest.fixture
def chain(tmp_path_factory, tmp_path):
    c = copy_chain(funded_template(tmp_path_factory), tmp_path / "chain")
    c._checks.min_batch = 1
    yield c
    c.close()


def forged(chain, coin_index: int = 0) -> Transaction:
    """A standard-looking P2PKH spend signed by the wrong key (its signature fails)."""
    tx = pay(chain, coin_index)
    sig = sign_input(tx, 0, OTHER_KEY, mature_coins(chain)[coin_index][1].script_pubkey)
    tx.vin[0].script_sig = push_data(sig) + push_data(KEY.public_key().sec())
    return tx


BAD_SIG = "mandatory-script-verify-flag-failed (EVAL_FALSE)"


def rejected(chain, block) -> str:
    before = snapshot(chain)
    with pytest.raises(ValidationError) as err:
        chain.submit_block(block)
    after = snapshot(chain)
    assert (after.tip, after.utxos, after.mempool) == (before.tip, before.utxos, before.mempool)
    return err.value.reason


def test_good_blocks_use_the_queue(chain):
    txs = [pay(chain, i) for i in range(3)]
    assert chain.submit_block(build_block(chain, txs)) == "accepted"
    assert chain._checks._process is not None  # the signatures went to the worker
    assert {(tx.txid(), MANDATORY_FLAGS) for tx in txs} <= chain.script_cache


def test_a_bad_signature_is_reported_before_a_later_fault(chain):
    # Sequential order: tx 1's scripts fail before the coinbase amount is checked.
    block = build_block(chain, [forged(chain)], coinbase_value=100 * 10**8)
    assert rejected(chain, block) == BAD_SIG
    # ... and before a later transaction's missing input.
    missing = Transaction(1, [TxIn(OutPoint(b"\x42" * 32, 0), b"")], [TxOut(1, SPK)], 0)
    block = build_block(chain, [pay(chain, 1), forged(chain), missing])
    assert rejected(chain, block) == BAD_SIG
    # A fault before the bad signature is reported first, as without the queue.
    block = build_block(chain, [missing, forged(chain)])
    assert rejected(chain, block) == "bad-txns-inputs-missingorspent"


def test_rejected_scripts_are_not_cached_and_the_chain_goes_on(chain):
    bad = forged(chain)
    good = pay(chain, 1)
    assert rejected(chain, build_block(chain, [good, bad])) == BAD_SIG
    assert (bad.txid(), MANDATORY_FLAGS) not in chain.script_cache
    assert rejected(chain, build_block(chain, [bad])) == BAD_SIG  # still checked, still bad
    assert chain.submit_block(build_block(chain, [good])) == "accepted"


def test_submit_blocks_refuses_a_bad_block(chain):
    first = build_block(chain, [pay(chain, 0)])
    assert chain.submit_blocks([first]) == ["accepted"]
    bad = build_block(chain, [forged(chain, 1)], time=next_time(chain))
    tip = chain.tip
    with pytest.raises(ValidationError) as err:
        chain.submit_blocks([bad])
    assert err.value.reason == BAD_SIG and chain.tip == tip
    assert miner.mine_block(chain, SPK, time=next_time(chain)) is not None


def test_a_batch_with_a_bad_block_keeps_the_blocks_before_it(tmp_path_factory, tmp_path):
    # Two good blocks and a bad one, built on a scratch copy, submitted in one batch to another.
    scratch = copy_chain(funded_template(tmp_path_factory), tmp_path / "scratch")
    target = copy_chain(funded_template(tmp_path_factory), tmp_path / "target")
    target._checks.min_batch = 1
    try:
        good1 = build_block(scratch, [pay(scratch, 0)])
        assert scratch.submit_block(good1) == "accepted"
        good2 = build_block(scratch, [pay(scratch, 1)])
        assert scratch.submit_block(good2) == "accepted"
        bad = build_block(scratch, [forged(scratch, 2)])
        with pytest.raises(ValidationError) as err:
            target.submit_blocks([good1, good2, bad])
        assert err.value.reason == BAD_SIG
        assert target.tip == good2.hash() and target.height == scratch.height
        assert target.utxo_snapshot() == scratch.utxo_snapshot()
    finally:
        scratch.close()
        target.close()


def _queue_jobs():
    """A signed P2PKH spend and a forged one, as (raw, index, scriptPubKey, flags) jobs."""
    tx = Transaction(1, [TxIn(OutPoint(b"\x01" * 32, 0), b"")], [TxOut(1, SPK)], 0)
    digest = legacy_sighash(tx, 0, SPK, SIGHASH_ALL)
    pub = push_data(KEY.public_key().sec())
    tx.vin[0].script_sig = push_data(KEY.sign(digest) + b"\x01") + pub
    good = (tx.serialize_legacy(), 0, SPK, MANDATORY_FLAGS)
    tx.vin[0].script_sig = push_data(OTHER_KEY.sign(digest) + b"\x01") + pub
    bad = (tx.serialize_legacy(), 0, SPK, MANDATORY_FLAGS)
    return good, bad


def test_queue_answers_and_resets():
    good, bad = _queue_jobs()
    checks = SignatureChecks(min_batch=2)
    try:
        for _ in range(20):
            checks.add(*good)
        checks.submit()
        assert checks.wait() is True
        assert checks._process is not None and checks.worker_cpu > 0
        checks.add(*bad)
        checks.submit()  # below min_batch: verified in line by wait()
        assert checks.wait() is False
        for job in (good, bad, good):
            checks.add(*job)
        checks.submit()
        assert checks.wait() is False
        assert checks.wait() is True  # reset: nothing pending, no failure remembered
        # A dead worker: the queue verifies in line from then on, with the same answers.
        checks._process.kill()
        checks._process.wait()
        for jobs, expected in (([good, good], True), ([good, bad], False), ([good], True)):
            for job in jobs:
                checks.add(*job)
            checks.submit()
            assert checks.wait() is expected
        assert checks._broken
    finally:
        process = checks._process
        checks.close()
    assert checks._process is None and process.poll() is not None


def test_a_worker_that_does_not_speak_the_protocol_is_not_trusted():
    """Whatever it writes, it never makes a check pass: its answers count as failures."""
    good, bad = _queue_jobs()
    checks = SignatureChecks(min_batch=1)
    chatty = "import sys; sys.stdout.write('x' * 64); sys.stdout.flush(); sys.stdin.read()"
    checks._process = subprocess.Popen(
        [sys.executable, "-c", chatty], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    checks._hello_pending = True
    try:
        checks.add(*bad)
        checks.submit()
        assert checks.wait() is False and checks._broken
        checks.add(*good)
        checks.submit()  # not sent any more: verified in line
        assert checks.wait() is True
    finally:
        checks.close()


def test_many_batches_in_flight_do_not_block_the_pipes(monkeypatch):
    good, bad = _queue_jobs()
    monkeypatch.setattr(checkqueue, "MAX_OUTSTANDING", 3)
    checks = SignatureChecks(min_batch=1)
    try:
        for jobs in [[good]] * 5 + [[bad]] + [[good]] * 5:
            for job in jobs:
                checks.add(*job)
            checks.submit()
            assert checks._outstanding <= 3
        assert checks.wait() is False  # the failure read early is not forgotten
        for _ in range(7):
            checks.add(*good)
            checks.submit()
        assert checks.wait() is True
    finally:
        checks.close()
