"""Merkle roots, CVE-2012-2459 mutation detection, and Merkle inclusion proofs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.block import (
    Block,
    merkle_proof,
    merkle_root,
    merkle_root_from_proof,
    verify_merkle_proof,
)
from sandbox_chain.hashes import hash256

# Block 100000's Merkle root as block explorers display it.
BLOCK_100000_MERKLE_ROOT = "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"


@pytest.fixture(scope="module")
def block100000(vectors) -> Block:
    return Block.parse(bytes.fromhex((vectors / "blocks" / "100000.hex").read_text().strip()))


def test_block_100000_merkle_root(block100000):
    root, mutated = merkle_root(block100000.txids())
    assert root[::-1].hex() == BLOCK_100000_MERKLE_ROOT
    assert not mutated


def test_single_transaction_root_is_its_txid(vectors):
    genesis = Block.parse(bytes.fromhex((vectors / "blocks" / "0.hex").read_text().strip()))
    assert merkle_root(genesis.txids()) == (genesis.txs[0].txid(), False)


def test_empty_list_gives_zero_root():
    assert merkle_root([]) == (bytes(32), False)


def test_duplicated_last_transaction_same_root_but_mutated(block100000):
    # An odd-count block (the first three transactions of block 100000) and the same block
    # with its last transaction repeated commit to the same root: CVE-2012-2459.
    odd = Block(block100000.header, block100000.txs[:3])
    root, mutated = odd.compute_merkle_root()
    assert not mutated
    forged = Block(block100000.header, odd.txs + [odd.txs[-1]])
    forged_root, forged_mutated = forged.compute_merkle_root()
    assert forged_root == root
    assert forged_mutated


def test_duplicated_subtree_is_detected_at_a_higher_level(block100000):
    # Six leaves: the third pair (e, f) is repeated one level up. Appending (e, f) again gives
    # eight leaves with the same root; only level 1 shows two identical adjacent nodes.
    leaves = block100000.txids() + [hash256(b"e"), hash256(b"f")]
    root, mutated = merkle_root(leaves)
    assert not mutated
    forged_root, forged_mutated = merkle_root(leaves + leaves[4:6])
    assert forged_root == root
    assert forged_mutated


def test_identical_pair_anywhere_is_mutated(block100000):
    a, b, c, d = block100000.txids()
    assert merkle_root([a, a, c, d])[1]
    assert not merkle_root([a, b, b, a])[1]  # b twice, but in two different pairs
    assert merkle_root([a, b, a, b])[1]  # no equal pair of leaves, but one level up: ab, ab


def test_proof_for_every_transaction_of_block_100000(block100000):
    txids = block100000.txids()
    root = block100000.header.merkle_root
    for index, txid in enumerate(txids):
        branch = merkle_proof(txids, index)
        assert len(branch) == 2
        assert verify_merkle_proof(txid, index, branch, root)
        assert merkle_root_from_proof(txid, index, branch) == root


def flip_bit(data: bytes, bit: int = 0) -> bytes:
    return bytes([data[0] ^ (1 << bit)]) + data[1:]


def test_tampered_proofs_fail(block100000):
    txids = block100000.txids()
    root = block100000.header.merkle_root
    for index, txid in enumerate(txids):
        branch = merkle_proof(txids, index)
        assert not verify_merkle_proof(flip_bit(txid), index, branch, root)
        assert not verify_merkle_proof(txid, index ^ 1, branch, root)
        assert not verify_merkle_proof(txid, index, [flip_bit(branch[0])] + branch[1:], root)
        assert not verify_merkle_proof(txid, index, branch[:-1] + [flip_bit(branch[-1])], root)
        assert not verify_merkle_proof(txid, index, branch[:1], root)
        assert not verify_merkle_proof(txid, index, branch, flip_bit(root))
        # An index beyond the branch's depth would alias a real one: refused.
        assert not verify_merkle_proof(txid, index + 4, branch, root)
        assert not verify_merkle_proof(txid, -1, branch, root)
        assert not verify_merkle_proof(txid, index, [b"\0" * 31] + branch[1:], root)


def test_proof_index_out_of_range(block100000):
    with pytest.raises(IndexError):
        merkle_proof(block100000.txids(), 4)
    with pytest.raises(IndexError):
        merkle_proof([], 0)


@settings(max_examples=60)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
def test_every_leaf_proves_against_the_root(leaves):
    root, mutated = merkle_root(leaves)
    assert not mutated  # distinct leaves never look mutated
    for index, leaf in enumerate(leaves):
        assert verify_merkle_proof(leaf, index, merkle_proof(leaves, index), root)
