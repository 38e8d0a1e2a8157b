"""Fork choice by most work, atomic reorgs, invalid branches, and the mempool after a reorg."""

from __future__ import annotations

import pytest
from chainkit import SPK, build_block, copy_chain, funded_template, next_time, pay, snapshot, solve

from sandbox_chain import miner
from sandbox_chain.block import merkle_root
from sandbox_chain.errors import ValidationError
from sandbox_chain.params import REGTEST
from sandbox_chain.utxo import CoinsViewCache, MemoryCoins
from sandbox_chain.validation import block_subsidy, check_block, connect_block


def _replay(chain) -> dict:
    """The UTXO set rebuilt from genesis out of the stored active-chain blocks."""
    coins = MemoryCoins()
    for height in range(1, chain.height + 1):
        checked = check_block(chain.get_block(chain.get_block_hash(height)), REGTEST)
        view = CoinsViewCache(coins)
        connect_block(checked, height, view, REGTEST, flags=0)
        view.flush_into(coins)
    return dict(coins.coins)


def test_equal_work_fork_does_not_reorg(chain):
    tip, parent = chain.tip, chain.get_block_hash(chain.height - 1)
    rival = build_block(chain, prev=parent)
    assert chain.submit_block(rival) == "side-chain"
    assert chain.tip == tip
    statuses = {t.hash: t.status for t in chain.chain_tips()}
    assert statuses == {tip: "active", rival.hash(): "valid-headers"}


def test_heavier_fork_reorgs_atomically_and_returns_txs_to_mempool(chain):
    fork_point = chain.get_block_hash(chain.height - 1)
    tx = pay(chain, 0)
    chain.accept_to_mempool(tx)
    old_tip = miner.mine_block(chain, SPK, time=next_time(chain)).hash()
    assert tx.txid() not in chain.mempool
    b1 = build_block(chain, prev=fork_point)
    assert chain.submit_block(b1) == "side-chain"
    b2 = build_block(chain, prev=b1.hash())
    assert chain.submit_block(b2) == "side-chain"  # equal work with the tip: first seen stays
    b3 = build_block(chain, prev=b2.hash())
    assert chain.submit_block(b3) == "accepted"
    assert chain.tip == b3.hash() and chain.get_block_hash(chain.height - 2) == b1.hash()
    assert chain.get_header_info(old_tip).status == "valid-fork"
    assert tx.txid() in chain.mempool  # back from the disconnected block
    assert chain.get_transaction(tx.txid()) == (tx, None)
    assert chain.utxo_snapshot() == _replay(chain)


def test_heavier_fork_with_an_invalid_block_does_not_move_the_tip(chain):
    chain.accept_to_mempool(pay(chain, 0))
    before = snapshot(chain)
    fork_point = chain.get_block_hash(chain.height - 2)
    f1 = build_block(chain, prev=fork_point)
    assert chain.submit_block(f1) == "side-chain"
    # f2 overpays its coinbase: valid on its own, invalid when connected.
    f2 = build_block(chain, prev=f1.hash())
    f2.txs[0].vout[0].value = block_subsidy(chain.height, REGTEST) + 1
    f2.header.merkle_root = merkle_root([t.txid() for t in f2.txs])[0]
    f2 = solve(f2)
    assert chain.submit_block(f2) == "side-chain"  # equal work: stored, not yet validated
    f3 = build_block(chain, prev=f2.hash())
    with pytest.raises(ValidationError) as err:
        chain.submit_block(f3)  # more work: the reorg is tried, f2 fails, all rolled back
    assert err.value.reason == "bad-cb-amount"
    assert snapshot(chain) == before
    assert chain.get_header_info(f2.hash()).status == "invalid"
    assert chain.get_header_info(f3.hash()).status == "invalid"
    assert chain.get_header_info(f1.hash()).status != "invalid"
    with pytest.raises(ValidationError) as err:
        chain.submit_block(build_block(chain, prev=f3.hash()))
    assert err.value.reason == "bad-prevblk"
    # The honest chain goes on.
    miner.mine_block(chain, SPK, time=next_time(chain))
    assert chain.height == before.height + 1
    assert chain.utxo_snapshot() == _replay(chain)


def test_conflicting_tx_in_new_branch_is_not_returned(chain):
    fork_point = chain.tip
    tx = pay(chain, 0)
    rival = pay(chain, 0, fee=20_000)  # same coin, other txid
    chain.accept_to_mempool(tx)
    miner.mine_block(chain, SPK, time=next_time(chain))
    b1 = build_block(chain, [rival], prev=fork_point)
    chain.submit_block(b1)
    b2 = build_block(chain, prev=b1.hash())
    assert chain.submit_block(b2) == "accepted"
    assert tx.txid() not in chain.mempool and chain.get_transaction(rival.txid())[1] == b1.hash()


def test_orphan_is_connected_when_parent_arrives(tmp_path_factory, tmp_path):
    a = copy_chain(funded_template(tmp_path_factory), tmp_path / "a")
    b = copy_chain(funded_template(tmp_path_factory), tmp_path / "b")
    try:
        blocks = [miner.mine_block(a, SPK, time=next_time(a)) for _ in range(3)]
        assert b.submit_block(blocks[2]) == "orphan"
        assert b.submit_block(blocks[1]) == "orphan"
        assert b.submit_block(blocks[0]) == "accepted"
        assert b.tip == a.tip
        assert b.submit_block(blocks[0]) == "duplicate"
    finally:
        a.close()
        b.close()
