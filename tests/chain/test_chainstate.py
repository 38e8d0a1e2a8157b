"""Opening, resuming and querying a chain; the rules that depend on height."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chainkit import (
    SPK,
    build_block,
    copy_chain,
    funded_template,
    next_time,
    open_chain,
    outpoint_of,
    pay,
    snapshot,
    solve,
)

from sandbox_chain import miner
from sandbox_chain.chainstate import Chain
from sandbox_chain.encoding import hash_to_hex
from sandbox_chain.errors import StorageError, ValidationError
from sandbox_chain.params import CLASSROOM, REGTEST
from sandbox_chain.pow import next_work_required
from sandbox_chain.validation import COIN

# Bitcoin Core's regtest genesis block hash (chainparams.cpp, CRegTestParams).
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"


def test_new_chain_starts_at_regtest_genesis(tmp_path):
    with Chain.open(tmp_path / "c", REGTEST) as chain:
        assert chain.height == 0 and hash_to_hex(chain.tip) == REGTEST_GENESIS
        assert chain.utxo_snapshot() == {}  # the genesis coinbase is never spendable
        assert chain.locator() == [chain.tip]


def test_resume_exactly_where_it_was(tmp_path_factory, tmp_path):
    chain = copy_chain(funded_template(tmp_path_factory), tmp_path / "c")
    tx = pay(chain)
    chain.accept_to_mempool(tx)
    miner.mine_block(chain, SPK, time=next_time(chain))
    side = build_block(chain, prev=chain.get_block_hash(chain.height - 1))
    chain.submit_block(side)
    before = snapshot(chain)
    tips, locator = chain.chain_tips(), chain.locator()
    chain.close()
    with open_chain(tmp_path / "c") as again:
        assert snapshot(again) == before
        assert again.chain_tips() == tips and again.locator() == locator
        assert again.get_transaction(tx.txid())[0] == tx
        assert again.get_utxo(outpoint_of(tx)[0]) is not None
        assert again.get_header_info(side.hash()).status == "valid-headers"
        miner.mine_block(again, SPK, time=next_time(again))  # and it goes on
        assert again.height == before.height + 1


def test_second_writer_is_refused(tmp_path):
    with Chain.open(tmp_path / "c", REGTEST):
        with pytest.raises(StorageError, match="in use"):
            Chain.open(tmp_path / "c", REGTEST)
    Chain.open(tmp_path / "c", REGTEST).close()  # free again once closed


def test_wrong_network_is_refused(tmp_path):
    Chain.open(tmp_path / "c", REGTEST).close()
    with pytest.raises(StorageError, match="regtest"):
        Chain.open(tmp_path / "c", CLASSROOM)


def test_queries(tmp_path_factory, tmp_path):
    with copy_chain(funded_template(tmp_path_factory), tmp_path / "c") as chain:
        assert chain.get_block_hash(chain.height) == chain.tip
        assert chain.get_block_hash(chain.height + 1) is None
        block = chain.get_block(chain.tip)
        assert block.hash() == chain.tip
        info = chain.get_header_info(chain.tip)
        assert (info.height, info.status) == (chain.height, "active")
        assert info.chainwork > chain.get_header_info(block.header.prev_hash).chainwork
        assert chain.get_transaction(block.txs[0].txid()) == (block.txs[0], chain.tip)
        assert chain.get_transaction(b"\x00" * 32) is None
        coins = chain.utxos_for_script(SPK)
        assert len(coins) == chain.height and all(c.is_coinbase for _, c in coins)
        assert chain.utxo_count() == len(chain.utxo_snapshot()) == chain.height
        history = chain.script_history(SPK)
        assert len(history) == chain.height
        loc = chain.locator()
        assert loc[:10] == [chain.get_block_hash(chain.height - i) for i in range(10)]
        assert loc[-1] == chain.get_block_hash(0) and len(loc) < 20


def test_subsidy_halves_at_the_regtest_interval(tmp_path_factory, tmp_path):
    with copy_chain(funded_template(tmp_path_factory), tmp_path / "c") as chain:
        while chain.height < REGTEST.subsidy_halving_interval - 1:
            miner.mine_block(chain, SPK, time=next_time(chain))
        greedy = build_block(chain, coinbase_value=50 * COIN)
        with pytest.raises(ValidationError) as err:
            chain.submit_block(greedy)
        assert err.value.reason == "bad-cb-amount"
        block = miner.mine_block(chain, SPK, time=next_time(chain))
        assert block.txs[0].vout[0].value == 25 * COIN


def test_coinbase_matures_after_100_blocks(tmp_path):
    with open_chain(tmp_path / "c") as chain:
        first = miner.mine_block(chain, SPK, time=1_700_000_060)
        for i in range(98):
            miner.mine_block(chain, SPK, time=1_700_000_120 + 60 * i)
        from chainkit import spend

        op, coin = outpoint_of(first.txs[0])
        coin = chain.get_utxo(op)
        tx = spend([(op, coin)], [(coin.value - 10_000, SPK)])
        with pytest.raises(ValidationError) as err:  # next block is at depth 99
            chain.accept_to_mempool(tx)
        assert err.value.reason == "bad-txns-premature-spend-of-coinbase"
        miner.mine_block(chain, SPK, time=next_time(chain))
        assert chain.accept_to_mempool(tx) == tx.txid()  # depth 100


def test_submit_blocks_imports_in_one_transaction_and_stops_at_the_first_invalid(
    tmp_path_factory, tmp_path
):
    source = copy_chain(funded_template(tmp_path_factory), tmp_path / "src")
    with source:
        blocks = [source.get_block(source.get_block_hash(h)) for h in range(1, source.height + 1)]
        tip = source.tip
    with open_chain(tmp_path / "dst") as dest:
        assert dest.submit_blocks(blocks[:50]) == ["accepted"] * 50
        broken = blocks[50]
        greedy = type(broken)(broken.header, broken.txs)
        greedy.txs = [greedy.txs[0]]
        greedy.txs[0] = type(greedy.txs[0]).parse(greedy.txs[0].serialize())
        greedy.txs[0].vout[0].value += 1  # changes the Merkle root: refused before storing
        with pytest.raises(ValidationError) as err:
            dest.submit_blocks([blocks[49], greedy, blocks[51]])  # duplicate, invalid, never tried
        assert err.value.reason == "bad-txnmrklroot" and dest.height == 50
        assert dest.submit_blocks(blocks[50:]) == ["accepted"] * (len(blocks) - 50)
        assert dest.tip == tip
    with open_chain(tmp_path / "dst") as again:
        assert again.tip == tip


def test_retarget_and_the_min_difficulty_exception(tmp_path):
    """Core's GetNextWorkRequired on a testnet-like network: retarget every 20 blocks, and a
    minimum-difficulty block allowed after 2x the spacing without one; the block after it goes
    back to the last real difficulty."""
    params = replace(
        CLASSROOM,
        name="retarget-test",
        pow_limit=REGTEST.pow_limit,
        pow_limit_bits=REGTEST.pow_limit_bits,
        pow_allow_min_difficulty=True,
        genesis_block=REGTEST.genesis_block,
    )
    limit = params.pow_limit_bits
    with Chain.open(tmp_path / "c", params) as chain:
        chain.clock = lambda: 2_000_000_000
        t0 = chain.get_header_info(chain.tip).time
        for h in range(1, 20):  # twice as fast as the 30 s target
            miner.mine_block(chain, SPK, time=t0 + 15 * h)
        t19 = t0 + 15 * 19
        expected = next_work_required(limit, t0, t19, params)
        assert expected != limit and chain.next_bits(chain.tip, t19 + 15) == expected
        assert miner.mine_block(chain, SPK, time=t19 + 15).header.bits == expected  # height 20
        assert miner.mine_block(chain, SPK, time=t19 + 30).header.bits == expected  # 21
        late = miner.mine_block(chain, SPK, time=t19 + 30 + 61)  # 22: > 2 x 30 s later
        assert late.header.bits == limit
        assert chain.next_bits(chain.tip, late.header.time + 1) == expected  # walks back past 22
        easy = build_block(chain, time=late.header.time + 1)
        assert easy.header.bits == expected
        easy.header.bits = limit
        with pytest.raises(ValidationError) as err:
            chain.submit_block(solve(easy))
        assert err.value.reason == "bad-diffbits"
