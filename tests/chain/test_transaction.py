"""Transaction parsing and serialization against real Bitcoin data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.encoding import ByteReader, hash_to_hex
from sandbox_chain.errors import ParseError
from sandbox_chain.hashes import hash256
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

BLOCK_170_HASH = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
BLOCK_170_SPEND = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
BLOCK_9_COINBASE = "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9"


def read_block_txs(path: Path) -> tuple[bytes, list[Transaction]]:
    """A local block reader (header, then varint count, then txs) reading txs in place."""
    reader = ByteReader(bytes.fromhex(path.read_text().strip()))
    header = reader.read(80)
    txs = [Transaction.read(reader) for _ in range(reader.read_varint())]
    reader.expect_end("block")
    return header, txs


def merkle_root(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes = hashes + hashes[-1:]
        hashes = [hash256(hashes[i] + hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def test_block_170_transactions_read_in_place(vectors):
    header, txs = read_block_txs(vectors / "blocks" / "170.hex")
    assert hash_to_hex(hash256(header)) == BLOCK_170_HASH
    assert len(txs) == 2
    coinbase, spend = txs
    assert coinbase.is_coinbase() and not spend.is_coinbase()
    assert spend.txid_hex == BLOCK_170_SPEND
    assert str(spend.vin[0].prevout) == f"{BLOCK_9_COINBASE}:0"
    # 10 BTC to Hal Finney, 40 BTC back to Satoshi.
    assert [o.value for o in spend.vout] == [10 * 10**8, 40 * 10**8]
    assert spend.total_out() == 50 * 10**8
    assert spend.version == 1 and spend.locktime == 0
    assert spend.vin[0].sequence == 0xFFFFFFFF


def test_block_9_coinbase_txid(vectors):
    _, txs = read_block_txs(vectors / "blocks" / "9.hex")
    assert txs[0].txid_hex == BLOCK_9_COINBASE
    assert txs[0].vin[0].prevout.is_null()


@pytest.mark.parametrize("height", ["0", "9", "170", "100000"])
def test_real_blocks_round_trip_and_match_their_merkle_root(vectors, height):
    raw = bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text().strip())
    header, txs = read_block_txs(vectors / "blocks" / f"{height}.hex")
    # The header's merkle root commits to our txids: proof they are computed like Bitcoin's.
    assert merkle_root([tx.txid() for tx in txs]) == header[36:68]
    body = b"".join(tx.serialize() for tx in txs)
    assert raw.endswith(body)
    for tx in txs:
        assert Transaction.parse(tx.serialize()) == tx
        assert tx.size() == len(tx.serialize())


def _first_witness_tx(core_vectors) -> str:
    for row in core_vectors("tx_valid.json"):
        if row[1][8:12] == "0001":
            return row[1]
    raise AssertionError("tx_valid.json has no segwit transaction")


def test_segwit_layout_parses_keeps_witness_and_txid_excludes_it(core_vectors):
    raw = bytes.fromhex(_first_witness_tx(core_vectors))
    tx = Transaction.parse(raw)
    assert tx.has_witness()
    assert tx.serialize() == raw
    assert tx.txid() == hash256(tx.serialize_legacy())
    assert tx.wtxid() == hash256(raw)
    assert tx.txid() != tx.wtxid()
    assert len(tx.serialize_legacy()) < len(raw)


def test_every_tx_vector_round_trips(core_vectors):
    count = 0
    for name in ("tx_valid.json", "tx_invalid.json"):
        for row in core_vectors(name):
            raw = bytes.fromhex(row[1])
            assert Transaction.parse(raw).serialize() == raw
            count += 1
    assert count == 121 + 93


def _spend() -> Transaction:
    return Transaction(
        version=1,
        vin=[TxIn(OutPoint(b"\x11" * 32, 3), b"\x51", 0xFFFFFFFE)],
        vout=[TxOut(5000, b"\x76\xa9"), TxOut(0, b"\x6a")],
        locktime=99,
    )


def test_layout_is_bytes_for_bytes():
    raw = _spend().serialize()
    assert (
        raw.hex()
        == (
            "01000000"  # version
            "01" + "11" * 32 + "03000000" + "0151" + "feffffff"  # one input
            "02" + "8813000000000000" + "0276a9" + "0000000000000000" + "016a"  # two outputs
            "63000000"  # locktime
        )
    )


@pytest.mark.parametrize("cut", [1, 4, 5, 40, 45, 60, 70])
def test_truncation_is_a_parse_error(cut):
    raw = _spend().serialize()
    with pytest.raises(ParseError):
        Transaction.parse(raw[:-cut])


def test_trailing_bytes_are_a_parse_error():
    with pytest.raises(ParseError, match="trailing"):
        Transaction.parse(_spend().serialize() + b"\x00")


def test_oversize_counts_are_refused_before_reading():
    # version, then a CompactSize promising 1,000,000 inputs in 60 bytes.
    with pytest.raises(ParseError, match="count"):
        Transaction.parse(b"\x01\x00\x00\x00\xfe\x40\x42\x0f\x00" + b"\x00" * 60)
    with pytest.raises(ParseError):
        Transaction.parse(b"\x01\x00\x00\x00\xff" + b"\xff" * 8)


def test_unknown_flag_and_superfluous_witness_are_refused():
    legacy = _spend().serialize()
    body = legacy[4:-4]
    with pytest.raises(ParseError, match="optional data"):
        Transaction.parse(legacy[:4] + b"\x00\x02" + body + legacy[-4:])
    with pytest.raises(ParseError, match="superfluous"):
        Transaction.parse(legacy[:4] + b"\x00\x01" + body + b"\x00" + legacy[-4:])


def test_negative_values_parse_so_validation_can_reject_them():
    tx = _spend()
    tx.vout[0].value = -1
    assert Transaction.parse(tx.serialize()).vout[0].value == -1


def test_from_hex_rejects_bad_hex():
    with pytest.raises(ParseError):
        Transaction.from_hex("zz")


def test_coinbase_detection():
    tx = _spend()
    assert not tx.is_coinbase()
    tx.vin[0].prevout = OutPoint(b"\0" * 32, 0xFFFFFFFF)
    assert tx.is_coinbase()
    tx.vin.append(TxIn(OutPoint(b"\0" * 32, 0xFFFFFFFF), b""))
    assert not tx.is_coinbase()


# --- properties ---------------------------------------------------------------------------

u32 = st.integers(0, 2**32 - 1)
txins = st.builds(
    TxIn,
    st.builds(OutPoint, st.binary(min_size=32, max_size=32), u32),
    st.binary(max_size=80),
    u32,
    st.lists(st.binary(max_size=40), max_size=3),
)
txouts = st.builds(TxOut, st.integers(-(2**63), 2**63 - 1), st.binary(max_size=80))
transactions = st.builds(
    Transaction,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(txins, min_size=1, max_size=4),
    st.lists(txouts, max_size=4),
    u32,
)


@settings(max_examples=150, deadline=None)
@given(transactions)
def test_round_trip(tx):
    raw = tx.serialize()
    again = Transaction.parse(raw)
    assert again == tx
    assert again.txid() == tx.txid()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_parse_error(data):
    try:
        tx = Transaction.parse(data)
    except ParseError:
        return
    assert tx.serialize() == data
