"""Network parameters: genesis blocks, proof-of-work limits, address prefixes."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from vectorlib import load_json_vectors

from sandbox_chain.encoding import b58check_decode
from sandbox_chain.params import (
    CLASSROOM,
    CLASSROOM_GENESIS_HASH,
    MAINNET,
    NETWORKS,
    REGTEST,
    get_params,
)
from sandbox_chain.pow import bits_to_target, check_proof_of_work, target_to_bits

# Published genesis hashes (Bitcoin Core chainparams.cpp asserts the same values).
MAINNET_GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
REGTEST_GENESIS = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
GENESIS_MERKLE_ROOT = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
# consensus.powLimit in Bitcoin Core's chainparams.cpp.
MAINNET_POW_LIMIT = 0x00000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
REGTEST_POW_LIMIT = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF


def test_mainnet_genesis_is_bitcoins_genesis_block(vectors):
    genesis = MAINNET.genesis_block
    assert genesis.hash_hex == MAINNET_GENESIS
    assert genesis.serialize() == bytes.fromhex((vectors / "blocks" / "0.hex").read_text())
    assert genesis.header.merkle_root[::-1].hex() == GENESIS_MERKLE_ROOT


def test_regtest_genesis_is_bitcoin_cores_regtest_genesis():
    genesis = REGTEST.genesis_block
    assert genesis.hash_hex == REGTEST_GENESIS
    # Same coinbase as mainnet's; only time, bits and nonce differ.
    assert genesis.txs[0].serialize() == MAINNET.genesis_block.txs[0].serialize()
    header = genesis.header
    assert (header.version, header.time, header.bits, header.nonce) == (
        1,
        1296688602,
        0x207FFFFF,
        2,
    )
    assert b"Chancellor on brink of second bailout" in genesis.txs[0].vin[0].script_sig
    assert genesis.txs[0].vout[0].value == 50 * 10**8


def test_classroom_genesis_hash_and_work_are_rederived():
    genesis = CLASSROOM.genesis_block
    assert genesis.hash_hex == CLASSROOM_GENESIS_HASH
    root, mutated = genesis.compute_merkle_root()
    assert root == genesis.header.merkle_root and not mutated
    assert check_proof_of_work(genesis.hash(), genesis.header.bits, CLASSROOM)
    assert genesis.header.prev_hash == bytes(32)
    assert genesis.txs[0].is_coinbase()
    # The classroom reward is burnt on purpose: its output script starts with OP_RETURN.
    assert genesis.txs[0].vout[0].script_pubkey[0] == 0x6A


@pytest.mark.parametrize("params", [REGTEST, CLASSROOM, MAINNET], ids=lambda p: p.name)
def test_genesis_meets_its_own_network_target(params):
    header = params.genesis_block.header
    assert check_proof_of_work(header.hash(), header.bits, params)


@pytest.mark.parametrize(
    "params, limit",
    [(MAINNET, MAINNET_POW_LIMIT), (REGTEST, REGTEST_POW_LIMIT)],
    ids=["mainnet", "regtest"],
)
def test_pow_limits_match_bitcoin_core(params, limit):
    assert params.pow_limit == limit
    assert target_to_bits(limit) == params.pow_limit_bits


@pytest.mark.parametrize("params", list(NETWORKS.values()), ids=lambda p: p.name)
def test_pow_limit_bits_is_the_compact_pow_limit(params):
    target, negative, overflow = bits_to_target(params.pow_limit_bits)
    assert not negative and not overflow
    assert target <= params.pow_limit
    assert target_to_bits(params.pow_limit) == params.pow_limit_bits
    # Core's retarget multiplies the target by up to 4 in 256 bits: there must be room
    # (regtest never retargets, and its limit indeed leaves none).
    if not params.pow_no_retargeting:
        assert params.pow_limit * 4 < 2**256


def test_classroom_starts_harder_than_its_limit_and_aims_at_30s_blocks():
    assert CLASSROOM.target_spacing == 30
    assert CLASSROOM.difficulty_adjustment_interval == 20
    assert not CLASSROOM.pow_no_retargeting
    start, _, _ = bits_to_target(CLASSROOM.genesis_block.header.bits)
    # About 2**25 expected hashes per block at the start: ~30 s at ~1.1 MH/s.
    assert 2**24 < 2**256 // (start + 1) < 2**26
    assert start < CLASSROOM.pow_limit


def test_mainnet_retargets_every_2016_blocks_of_ten_minutes():
    assert MAINNET.difficulty_adjustment_interval == 2016
    assert MAINNET.target_spacing == 600
    assert REGTEST.pow_no_retargeting and not MAINNET.pow_no_retargeting


@pytest.mark.parametrize("chain, params", [("main", MAINNET), ("regtest", REGTEST)])
def test_address_prefixes_decode_bitcoin_cores_key_io_vectors(vectors, chain, params):
    # key_io_valid.json rows: [base58 string, scriptPubKey or key hex, metadata].
    rows = load_json_vectors(vectors / "bitcoin-core" / "key_io_valid.json")
    seen = set()
    for text, payload_hex, meta in rows:
        if meta.get("chain") != chain or text[:4].lower() in ("bc1q", "bc1p", "bc1z", "bcrt"):
            continue
        payload = b58check_decode(text)
        if meta["isPrivkey"]:
            assert payload[0] == params.wif_prefix
            assert payload[1:33].hex() == payload_hex
            seen.add("wif")
        elif payload_hex.startswith("76a914"):
            assert payload[0] == params.pubkey_address_prefix
            assert payload[1:].hex() == payload_hex[6:46]
            seen.add("p2pkh")
        elif payload_hex.startswith("a914"):
            assert payload[0] == params.script_address_prefix
            assert payload[1:].hex() == payload_hex[4:44]
            seen.add("p2sh")
    assert seen == {"wif", "p2pkh", "p2sh"}


def test_classroom_uses_sandbox_prefixes_like_regtest():
    assert (
        CLASSROOM.pubkey_address_prefix,
        CLASSROOM.script_address_prefix,
        CLASSROOM.wif_prefix,
    ) == (REGTEST.pubkey_address_prefix, REGTEST.script_address_prefix, REGTEST.wif_prefix)


def test_regtest_ports_and_schedule_match_bitcoin_core():
    assert (REGTEST.default_rpc_port, REGTEST.default_p2p_port) == (18443, 18444)
    assert REGTEST.subsidy_halving_interval == 150
    assert MAINNET.subsidy_halving_interval == 210_000
    assert REGTEST.coinbase_maturity == 100


def test_networks_have_distinct_ports_and_magic():
    nets = list(NETWORKS.values())
    assert len({p.default_rpc_port for p in nets}) == len(nets)
    assert len({p.message_start for p in nets}) == len(nets)


def test_get_params():
    assert get_params("regtest") is REGTEST
    assert get_params("classroom") is CLASSROOM
    assert get_params("mainnet") is MAINNET
    with pytest.raises(ValueError, match="unknown network 'testnet'.*classroom, mainnet, regtest"):
        get_params("testnet")


def test_params_are_immutable():
    with pytest.raises(FrozenInstanceError):
        REGTEST.coinbase_maturity = 1  # type: ignore[misc]
