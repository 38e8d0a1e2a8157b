"""Every invalid block or transaction is refused with Bitcoin Core's reason, state unchanged.

Each case builds one invalid object on a funded regtest chain (110 blocks, so early coinbases
are mature), submits it, and checks the reject reason and that the tip, the UTXO set (read back
from the database) and the mempool are exactly as before.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from chainkit import (
    KEY,
    OTHER_KEY,
    OTHER_SPK,
    SPK,
    Snapshot,
    build_block,
    mature_coins,
    next_time,
    outpoint_of,
    pay,
    snapshot,
    solve,
    spend,
)

from sandbox_chain import miner
from sandbox_chain.block import Block, merkle_root
from sandbox_chain.errors import ValidationError
from sandbox_chain.hashes import hash256
from sandbox_chain.params import REGTEST
from sandbox_chain.pow import check_proof_of_work
from sandbox_chain.script import push_data
from sandbox_chain.sighash import sign_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut
from sandbox_chain.validation import MAX_MONEY, block_subsidy

# --- block cases: each returns an invalid block built on the chain's tip --------------------


def _high_hash(chain):
    block = build_block(chain)
    header = block.header
    nonce = 0
    while check_proof_of_work(replace(header, nonce=nonce).hash(), header.bits, REGTEST):
        nonce += 1
    return Block(replace(header, nonce=nonce), block.txs)


def _bad_diffbits(chain):
    block = build_block(chain)
    block.header.bits = 0x207FFFFE  # a harder target than regtest's: valid work, wrong bits
    return solve(block)


def _time_too_old(chain):
    return build_block(chain, time=chain.median_time_past())


def _time_too_new(chain):
    return build_block(chain, time=int(chain.clock()) + REGTEST.max_future_block_time + 1)


def _bad_merkle(chain):
    block = build_block(chain, fix_merkle=False)
    block.header.merkle_root = hash256(b"not the root")
    return solve(block)


def _duplicate_tx(chain):
    a, b = pay(chain, 0), pay(chain, 1)
    block = build_block(chain, [a, b])
    return Block(block.header, [*block.txs, b])  # same Merkle root (CVE-2012-2459)


def _cb_missing(chain):
    block = build_block(chain, [pay(chain)])
    block.txs = block.txs[1:]
    block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


def _cb_multiple(chain):
    block = build_block(chain)
    second = miner.coinbase_transaction(chain.height + 1, SPK, 1, extranonce=7)
    block.txs.append(second)
    block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


def _cb_amount(chain):
    return build_block(chain, coinbase_value=block_subsidy(chain.height + 1, REGTEST) + 1)


def _cb_amount_with_fees(chain):
    tx = pay(chain, fee=5_000)
    return build_block(chain, [tx], coinbase_value=block_subsidy(chain.height + 1, REGTEST) + 5_001)


def _blk_length(chain):
    block = build_block(chain)
    block.txs = []
    block.header.merkle_root = bytes(32)
    return solve(block)


def _cb_length(chain):
    block = build_block(chain)
    block.txs[0].vin[0].script_sig = b"\x51"
    block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


def _cb_height(chain):
    block = build_block(chain)
    block.txs[0].vin[0].script_sig = push_data((chain.height + 5).to_bytes(2, "little")) + b"\x00"
    block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


def _blk_sigops(chain):
    block = build_block(chain)
    block.txs[0].vout.append(TxOut(0, b"\xae" * 1001))  # 1001 CHECKMULTISIG = 20,020 sigops
    block.header.merkle_root = merkle_root([t.txid() for t in block.txs])[0]
    return solve(block)


def _in_block(make_tx):
    return lambda chain: build_block(chain, [make_tx(chain)])


# --- transaction cases: each returns an invalid transaction ---------------------------------


def _vin_empty(chain):
    return Transaction(1, [], [TxOut(1000, SPK)], 0)


def _vout_empty(chain):
    op, _ = mature_coins(chain)[0]
    return Transaction(1, [TxIn(op, b"")], [], 0)


def _with_values(values):
    def make(chain):
        coins = mature_coins(chain)[:1]
        return spend(coins, [(v, SPK) for v in values])

    return make


def _inputs_duplicate(chain):
    c = mature_coins(chain)[0]
    return spend([c, c], [(c[1].value, SPK)])


def _prevout_null(chain):
    c = mature_coins(chain)[0]
    tx = spend([c], [(c[1].value - 10_000, SPK)])
    tx.vin.append(TxIn(OutPoint(bytes(32), 0xFFFFFFFF), b"\x51"))
    return tx


def _missing_input(chain):
    return spend([(OutPoint(b"\x42" * 32, 0), mature_coins(chain)[0][1])], [(1000, SPK)])


def _in_below_out(chain):
    op, coin = mature_coins(chain)[0]
    return spend([(op, coin)], [(coin.value + 1, SPK)])


def _premature_coinbase(chain):
    young = [(op, c) for op, c in chain.utxos_for_script(SPK) if chain.height + 1 - c.height < 100]
    op, coin = young[0]
    return spend([(op, coin)], [(coin.value - 10_000, SPK)])


def _nonfinal(chain):
    op, coin = mature_coins(chain)[0]
    return spend([(op, coin)], [(coin.value - 10_000, SPK)], locktime=chain.height + 5, sequence=0)


def _wrong_key(chain):
    """KEY's public key with a signature made by another key: CHECKSIG fails."""
    tx = pay(chain)
    forged = sign_input(tx, 0, OTHER_KEY, mature_coins(chain)[0][1].script_pubkey)
    tx.vin[0].script_sig = push_data(forged) + push_data(KEY.public_key().sec())
    return tx


def _cleanstack(chain):
    tx = pay(chain)
    tx.vin[0].script_sig = b"\x51" + tx.vin[0].script_sig  # an extra OP_1: legal, not standard
    return tx


BLOCK_CASES = [
    ("high-hash", _high_hash),
    ("bad-diffbits", _bad_diffbits),
    ("time-too-old", _time_too_old),
    ("time-too-new", _time_too_new),
    ("bad-txnmrklroot", _bad_merkle),
    ("bad-txns-duplicate", _duplicate_tx),
    ("bad-cb-missing", _cb_missing),
    ("bad-cb-multiple", _cb_multiple),
    ("bad-cb-amount", _cb_amount),
    ("bad-cb-amount", _cb_amount_with_fees),
    ("bad-blk-length", _blk_length),
    ("bad-cb-length", _cb_length),
    ("bad-cb-height", _cb_height),
    ("bad-blk-sigops", _blk_sigops),
    ("bad-txns-vin-empty", _in_block(_vin_empty)),
    ("bad-txns-vout-empty", _in_block(_vout_empty)),
    ("bad-txns-vout-negative", _in_block(_with_values([-1]))),
    ("bad-txns-vout-toolarge", _in_block(_with_values([MAX_MONEY + 1]))),
    ("bad-txns-txouttotal-toolarge", _in_block(_with_values([MAX_MONEY, 1]))),
    ("bad-txns-inputs-duplicate", _in_block(_inputs_duplicate)),
    ("bad-txns-prevout-null", _in_block(_prevout_null)),
    ("bad-txns-inputs-missingorspent", _in_block(_missing_input)),
    ("bad-txns-in-belowout", _in_block(_in_below_out)),
    ("bad-txns-premature-spend-of-coinbase", _in_block(_premature_coinbase)),
    ("bad-txns-nonfinal", _in_block(_nonfinal)),
    ("mandatory-script-verify-flag-failed (EVAL_FALSE)", _in_block(_wrong_key)),
]

TX_CASES = [
    ("bad-txns-vin-empty", _vin_empty),
    ("bad-txns-vout-empty", _vout_empty),
    ("bad-txns-vout-negative", _with_values([-1])),
    ("bad-txns-vout-toolarge", _with_values([MAX_MONEY + 1])),
    ("bad-txns-txouttotal-toolarge", _with_values([MAX_MONEY, 1])),
    ("bad-txns-inputs-duplicate", _inputs_duplicate),
    ("bad-txns-prevout-null", _prevout_null),
    ("bad-txns-inputs-missingorspent", _missing_input),
    ("bad-txns-in-belowout", _in_below_out),
    ("bad-txns-premature-spend-of-coinbase", _premature_coinbase),
    ("non-final", _nonfinal),
    ("mandatory-script-verify-flag-failed (NULLFAIL)", _wrong_key),
    ("non-mandatory-script-verify-flag (CLEANSTACK)", _cleanstack),
    ("coinbase", lambda chain: build_block(chain).txs[0]),
    ("dust", _with_values([100])),
    ("scriptpubkey", lambda chain: spend(mature_coins(chain)[:1], [(10**8, b"\x51")])),
    ("min relay fee not met", lambda chain: pay(chain, fee=10)),
    ("scriptsig-not-pushonly", lambda chain: _append_to_scriptsig(pay(chain), b"\x76")),
]


def _append_to_scriptsig(tx, extra):
    tx.vin[0].script_sig += extra
    return tx


def _assert_unchanged(chain, before: Snapshot) -> None:
    after = snapshot(chain)
    assert after.tip == before.tip and after.height == before.height
    assert after.utxos == before.utxos
    assert after.mempool == before.mempool


@pytest.mark.parametrize(
    ("reason", "make_block"),
    BLOCK_CASES,
    ids=[f"block-{r}-{i}" for i, (r, _) in enumerate(BLOCK_CASES)],
)
def test_invalid_block_is_rejected_with_cores_reason(chain, reason, make_block):
    chain.accept_to_mempool(pay(chain, 5))  # a mempool entry that must survive untouched
    block = make_block(chain)
    before = snapshot(chain)
    with pytest.raises(ValidationError) as err:
        chain.submit_block(block)
    assert err.value.reason == reason
    _assert_unchanged(chain, before)
    # The chain still works: a good block connects on the unchanged tip.
    assert miner.mine_block(chain, SPK, time=next_time(chain)) is not None


@pytest.mark.parametrize(
    ("reason", "make_tx"), TX_CASES, ids=[f"tx-{r}-{i}" for i, (r, _) in enumerate(TX_CASES)]
)
def test_invalid_transaction_is_rejected_with_cores_reason(chain, reason, make_tx):
    chain.accept_to_mempool(pay(chain, 5))
    tx = make_tx(chain)
    before = snapshot(chain)
    with pytest.raises(ValidationError) as err:
        chain.accept_to_mempool(tx)
    assert err.value.reason == reason
    _assert_unchanged(chain, before)


def test_mempool_conflict_and_duplicates(chain):
    tx = pay(chain, 0)
    chain.accept_to_mempool(tx)
    rival = pay(chain, 0, fee=20_000, to=OTHER_SPK)  # spends the same coin
    before = snapshot(chain)
    for bad, reason in [
        (rival, "txn-mempool-conflict"),
        (tx, "txn-already-in-mempool"),
    ]:
        with pytest.raises(ValidationError) as err:
            chain.accept_to_mempool(bad)
        assert err.value.reason == reason
        _assert_unchanged(chain, before)
    miner.mine_block(chain, SPK, time=next_time(chain))
    before = snapshot(chain)
    with pytest.raises(ValidationError) as err:
        chain.accept_to_mempool(tx)  # now confirmed: its outputs are in the UTXO set
    assert err.value.reason == "txn-already-known"
    _assert_unchanged(chain, before)


def test_mutated_block_does_not_blacklist_the_honest_header(chain):
    """CVE-2012-2459: the mutated copy fails; the honest block with the same header connects."""
    a, b = pay(chain, 0), pay(chain, 1)
    honest = build_block(chain, [a, b])
    mutated = Block(honest.header, [*honest.txs, b])
    assert mutated.hash() == honest.hash()
    for _ in range(2):  # twice: the second attempt must not be "duplicate-invalid"
        with pytest.raises(ValidationError) as err:
            chain.submit_block(mutated)
        assert err.value.reason == "bad-txns-duplicate" and err.value.corrupted
    bad_root = Block(replace(honest.header), [*honest.txs[:2]])
    with pytest.raises(ValidationError) as err:
        chain.submit_block(bad_root)
    assert err.value.reason == "bad-txnmrklroot" and err.value.corrupted
    assert chain.submit_block(honest) == "accepted"
    assert chain.tip == honest.hash()


def test_child_of_invalid_block_is_bad_prevblk(chain):
    bad = _cb_amount(chain)
    with pytest.raises(ValidationError):
        chain.submit_block(bad)
    assert chain.get_header_info(bad.hash()).status == "invalid"
    with pytest.raises(ValidationError) as err:
        chain.submit_block(bad)
    assert err.value.reason == "duplicate-invalid"
    child = build_block(chain, prev=bad.hash())
    with pytest.raises(ValidationError) as err:
        chain.submit_block(child)
    assert err.value.reason == "bad-prevblk"


def test_signed_spend_is_accepted_and_mined(chain):
    tx = pay(chain)
    txid = chain.accept_to_mempool(tx)
    block = miner.mine_block(chain, SPK, time=next_time(chain))
    assert txid in [t.txid() for t in block.txs] and not chain.mempool.txids()
    assert chain.get_transaction(txid) == (tx, block.hash())
    assert chain.get_utxo(outpoint_of(tx)[0]).value == tx.vout[0].value
    # The explorer's history: the spend shows once under the script it spent from and paid to.
    assert [t for t, _, _ in chain.script_history(SPK)].count(txid) == 1
    assert chain.get_utxo(tx.vin[0].prevout) is None
    assert KEY.public_key().sec() in tx.vin[0].script_sig
