"""Block headers and blocks against real Bitcoin mainnet blocks (tests/vectors/blocks)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.block import Block, BlockHeader
from sandbox_chain.encoding import encode_varint
from sandbox_chain.errors import ParseError
from sandbox_chain.params import MAINNET
from sandbox_chain.pow import check_proof_of_work
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

# Block hashes as published (vectors/README.md; any block explorer shows the same).
KNOWN_BLOCKS = {
    "0": "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    "9": "000000008d9dc510f23c2657fc4f67bea30078cc05a90eb89e84cc475c080805",
    "170": "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee",
    "100000": "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
}
# Block 100000's transactions as block explorers list them.
BLOCK_100000_TXIDS = [
    "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
    "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
    "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
    "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
]


def raw_block(vectors, height: str) -> bytes:
    return bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text().strip())


@pytest.mark.parametrize("height", sorted(KNOWN_BLOCKS, key=int))
def test_real_block_parses_hashes_and_validates(vectors, height):
    raw = raw_block(vectors, height)
    block = Block.parse(raw)
    assert block.serialize() == raw
    assert block.size() == len(raw)
    assert block.hash_hex == KNOWN_BLOCKS[height]
    assert block.hash() == bytes.fromhex(KNOWN_BLOCKS[height])[::-1]
    root, mutated = block.compute_merkle_root()
    assert root == block.header.merkle_root
    assert not mutated
    assert check_proof_of_work(block.hash(), block.header.bits, MAINNET)
    assert block.txs[0].is_coinbase()
    assert not any(tx.is_coinbase() for tx in block.txs[1:])


def test_block_100000_has_its_four_transactions(vectors):
    block = Block.parse(raw_block(vectors, "100000"))
    assert [tx.txid_hex for tx in block.txs] == BLOCK_100000_TXIDS
    header = block.header
    # Its parent, block 99999, as displayed.
    assert header.prev_hash[::-1].hex() == (
        "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250"
    )
    assert (header.version, header.time, header.bits, header.nonce) == (
        1,
        1293623863,
        0x1B04864C,
        274148111,
    )


def test_block_170_links_to_its_parent(vectors):
    # Block 170's prev_hash is block 169; the genesis block's is all zeros.
    genesis = Block.parse(raw_block(vectors, "0"))
    assert genesis.header.prev_hash == bytes(32)
    block170 = Block.parse(raw_block(vectors, "170"))
    assert block170.header.prev_hash[::-1].hex() == (
        "000000002a22cfee1f2c846adbd12b3e183d4f97683f85dad08a79780a84bd55"
    )


def test_header_is_80_bytes_and_parses_alone(vectors):
    raw = raw_block(vectors, "170")
    header = BlockHeader.parse(raw[:80])
    assert header.serialize() == raw[:80]
    assert header.hash_hex == KNOWN_BLOCKS["170"]
    with pytest.raises(ParseError):
        BlockHeader.parse(raw[:79])
    with pytest.raises(ParseError):
        BlockHeader.parse(raw[:81])


def test_every_truncation_of_a_block_is_a_parse_error(vectors):
    raw = raw_block(vectors, "170")
    for cut in range(len(raw)):
        with pytest.raises(ParseError):
            Block.parse(raw[:cut])


def test_trailing_bytes_are_a_parse_error(vectors):
    with pytest.raises(ParseError, match="trailing"):
        Block.parse(raw_block(vectors, "9") + b"\0")


@pytest.mark.parametrize("count", [2, 0xFFFF, 0xFFFFFFFF, 0x02000000])
def test_absurd_transaction_count_is_a_parse_error(vectors, count):
    raw = raw_block(vectors, "9")
    assert raw[80] == 1
    forged = raw[:80] + encode_varint(count) + raw[81:]
    with pytest.raises(ParseError):
        Block.parse(forged)


def test_header_fields_must_fit_their_bytes():
    ok = dict(version=1, prev_hash=bytes(32), merkle_root=bytes(32), time=0, bits=0, nonce=0)
    BlockHeader(**ok)
    for field, bad in [
        ("nonce", 2**32),
        ("time", -1),
        ("bits", 2**32),
        ("version", 2**31),
        ("prev_hash", bytes(31)),
    ]:
        with pytest.raises(ValueError):
            BlockHeader(**{**ok, field: bad})


def test_negative_version_round_trips():
    # nVersion is a signed int32 in Bitcoin Core; 0xffffffff on the wire is -1.
    raw = b"\xff\xff\xff\xff" + bytes(76)
    header = BlockHeader.parse(raw)
    assert header.version == -1
    assert header.serialize() == raw


# --- property tests ------------------------------------------------------------------------


@given(st.binary(min_size=80, max_size=80))
def test_any_80_bytes_round_trip_as_a_header(raw):
    assert BlockHeader.parse(raw).serialize() == raw


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_parse_error(raw):
    try:
        block = Block.parse(raw)
    except ParseError:
        return
    assert block.serialize() == raw


hashes32 = st.binary(min_size=32, max_size=32)
uint32 = st.integers(0, 2**32 - 1)
scripts = st.binary(max_size=60)
headers = st.builds(
    BlockHeader,
    version=st.integers(-(2**31), 2**31 - 1),
    prev_hash=hashes32,
    merkle_root=hashes32,
    time=uint32,
    bits=uint32,
    nonce=uint32,
)
txs = st.builds(
    Transaction,
    version=st.integers(-(2**31), 2**31 - 1),
    vin=st.lists(
        st.builds(TxIn, st.builds(OutPoint, hashes32, uint32), scripts, uint32),
        min_size=1,
        max_size=3,
    ),
    vout=st.lists(st.builds(TxOut, st.integers(0, 21 * 10**14), scripts), max_size=3),
    locktime=uint32,
)


@settings(max_examples=100)
@given(headers, st.lists(txs, max_size=5))
def test_block_round_trip(header, tx_list):
    block = Block(header, tx_list)
    raw = block.serialize()
    again = Block.parse(raw)
    assert again == block
    assert again.serialize() == raw
    assert again.hash() == header.hash()
