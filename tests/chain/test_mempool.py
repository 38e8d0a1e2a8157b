"""The mempool: chains of unconfirmed transactions, block templates, removal and eviction."""

from __future__ import annotations

import pytest
from chainkit import (
    OTHER_SPK,
    SPK,
    build_block,
    mature_coins,
    next_time,
    outpoint_of,
    pay,
    spend,
)

from sandbox_chain import miner
from sandbox_chain.errors import ValidationError
from sandbox_chain.script import MANDATORY_FLAGS


def test_child_of_unconfirmed_parent_is_accepted_and_mined_after_it(chain):
    parent = pay(chain, 0, fee=1_000)
    child = spend([outpoint_of(parent)], [(parent.vout[0].value - 50_000, SPK)])
    with pytest.raises(ValidationError) as err:
        chain.accept_to_mempool(child)  # parent unknown yet
    assert err.value.reason == "bad-txns-inputs-missingorspent"
    chain.accept_to_mempool(parent)
    chain.accept_to_mempool(child)
    # The child pays more per byte: with its parent it is the best package, parent first.
    rich = pay(chain, 1, fee=20_000)
    chain.accept_to_mempool(rich)
    template = miner.create_block_template(chain, SPK)
    order = [t.txid() for t in template.txs[1:]]
    assert order.index(parent.txid()) < order.index(child.txid())
    assert order[0] == parent.txid()  # ancestor fee rate of child+parent beats `rich`
    fees = 1_000 + 50_000 + 20_000
    assert template.txs[0].vout[0].value == 50 * 10**8 + fees
    block = miner.mine_block(chain, SPK, time=next_time(chain))
    assert len(block.txs) == 4 and len(chain.mempool) == 0


def test_block_evicts_conflicting_mempool_txs_and_their_children(chain):
    tx = pay(chain, 0)
    child = spend([outpoint_of(tx)], [(tx.vout[0].value - 10_000, SPK)])
    chain.accept_to_mempool(tx)
    chain.accept_to_mempool(child)
    keep = pay(chain, 1)
    chain.accept_to_mempool(keep)
    rival = pay(chain, 0, fee=30_000, to=OTHER_SPK)
    assert chain.submit_block(build_block(chain, [rival])) == "accepted"
    assert chain.mempool.txids() == [keep.txid()]


def test_confirmed_parent_keeps_child_in_mempool(chain):
    parent = pay(chain, 0)
    child = spend([outpoint_of(parent)], [(parent.vout[0].value - 10_000, SPK)])
    chain.accept_to_mempool(parent)
    chain.accept_to_mempool(child)
    chain.submit_block(build_block(chain, [parent]))
    assert chain.mempool.txids() == [child.txid()]
    block = miner.mine_block(chain, SPK, time=next_time(chain))
    assert block.txs[1].txid() == child.txid()


def test_spending_two_coins_and_several_outputs(chain):
    coins = mature_coins(chain)[:2]
    total = sum(c.value for _, c in coins)
    tx = spend(coins, [(total // 2, SPK), (total // 2 - 10_000, OTHER_SPK)])
    txid = chain.accept_to_mempool(tx)
    assert chain.mempool.get(txid) == tx
    assert chain.mempool.entries[txid].fee == total - (total // 2) * 2 + 10_000


def test_template_respects_size_and_sigop_limits(chain):
    txs = [pay(chain, i, fee=10_000 * (i + 1)) for i in range(4)]
    for tx in txs:
        chain.accept_to_mempool(tx)
    entries = chain.mempool.entries
    room = entries[txs[3].txid()].size + entries[txs[2].txid()].size
    chosen = chain.mempool.block_template(max_size=room, max_sigops=10**6)
    assert [e.txid for e in chosen] == [txs[3].txid(), txs[2].txid()]  # best fee rates
    one_sig = chain.mempool.entries[txs[0].txid()].sigops
    assert len(chain.mempool.block_template(max_size=10**6, max_sigops=one_sig)) == 1


def test_scripts_checked_in_the_mempool_are_not_run_again_in_the_block(chain):
    tx = pay(chain)
    txid = chain.accept_to_mempool(tx)
    assert (txid, MANDATORY_FLAGS) in chain.script_cache
    tampered = spend(mature_coins(chain)[1:2], [(10**8, SPK)])
    tampered_txid = tampered.txid()
    # A cache entry is keyed by txid and flags: a different transaction is never covered by it.
    assert (tampered_txid, MANDATORY_FLAGS) not in chain.script_cache
    block = miner.mine_block(chain, SPK, time=next_time(chain))
    assert block.txs[1].txid() == txid
