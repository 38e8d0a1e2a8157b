"""RPC methods called as the functions they are, on an in-process chain: no server, no node."""

from __future__ import annotations

import pytest

from sandbox_chain.chainstate import Chain
from sandbox_chain.miner import generate_to_script
from sandbox_chain.node.chainaccess import InProcessChain
from sandbox_chain.node.rpc import RPCError
from sandbox_chain.node.rpc.blockchain import getbestblockhash, getblock, getblockcount
from sandbox_chain.node.rpc.mining import generatetoaddress
from sandbox_chain.params import REGTEST

# Bitcoin Core's regtest genesis block (chainparams.cpp): its hash and its coinbase's txid,
# the Merkle root every genesis block of Bitcoin's networks shares.
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
GENESIS_COINBASE = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
ADDRESS = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"  # a regtest address (key_io_valid.json)


@pytest.fixture
def ctx(tmp_path):
    with Chain.open(tmp_path / "chain", REGTEST) as chain:
        yield InProcessChain(chain)


def test_getblock_on_the_genesis_block(ctx):
    block = getblock(ctx, REGTEST_GENESIS)
    assert block["hash"] == REGTEST_GENESIS and block["height"] == 0
    assert block["tx"] == [GENESIS_COINBASE] and block["merkleroot"] == GENESIS_COINBASE
    raw = getblock(ctx, REGTEST_GENESIS, 0)
    assert isinstance(raw, str) and len(raw) == 285 * 2  # the 285-byte genesis block
    assert getblock(ctx, REGTEST_GENESIS, 2)["tx"][0]["txid"] == GENESIS_COINBASE


def test_getblock_refuses_as_core_does(ctx):
    with pytest.raises(RPCError) as bad:
        getblock(ctx, "zz")
    assert bad.value.code == -8 and "must be hexadecimal string" in bad.value.message
    with pytest.raises(RPCError) as unknown:
        getblock(ctx, "00" * 32)
    assert (unknown.value.code, unknown.value.message) == (-5, "Block not found")


def test_mining_through_the_rpc_functions(ctx):
    hashes = generatetoaddress(ctx, 3, ADDRESS)
    assert getblockcount(ctx) == 3 and getbestblockhash(ctx) == hashes[-1]
    assert getblock(ctx, hashes[0])["previousblockhash"] == REGTEST_GENESIS
    # The in-process chain is the caller's: the same Chain object saw every block.
    assert ctx.chain.height == 3
    generate_to_script(ctx.chain, b"\x51", 1)
    assert getblockcount(ctx) == 4
