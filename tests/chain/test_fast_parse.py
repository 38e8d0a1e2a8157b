"""Transaction.read's fast path for legacy transactions reads exactly what read_careful reads.

`Transaction.read` first tries `_read_legacy_fast` and falls back to `read_careful` (the
field-by-field `ByteReader` parser) for anything else; these tests compare the two on real
blocks and on random, truncated and mutated transactions: same transaction and same end
position, or both a ParseError.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.block import Block
from sandbox_chain.encoding import ByteReader
from sandbox_chain.errors import ParseError
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut, _read_legacy_fast


def careful(data: bytes, pos: int = 0):
    reader = ByteReader(data, pos)
    try:
        return Transaction.read_careful(reader), reader.pos
    except ParseError:
        return "ParseError"


def default(data: bytes, pos: int = 0):
    reader = ByteReader(data, pos)
    try:
        return Transaction.read(reader), reader.pos
    except ParseError:
        return "ParseError"


def test_real_blocks_take_the_fast_path_and_agree(vectors):
    fast_count = 0
    for path in sorted((vectors / "blocks").glob("*.hex")):
        raw = bytes.fromhex(path.read_text().strip())
        reader = ByteReader(raw, 80)
        count = reader.read_varint()
        pos = reader.pos
        for _ in range(count):
            expected = careful(raw, pos)
            assert default(raw, pos) == expected
            fast_count += _read_legacy_fast(raw, pos) is not None
            pos = expected[1]
        assert pos == len(raw)
        assert Block.parse(raw).serialize() == raw
    assert fast_count > 0


scripts = st.binary(max_size=300)
txs = st.builds(
    Transaction,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(
        st.builds(
            TxIn,
            st.builds(OutPoint, st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1)),
            scripts,
            st.integers(0, 2**32 - 1),
        ),
        max_size=4,
    ),
    st.lists(st.builds(TxOut, st.integers(-(2**63), 2**63 - 1), scripts), max_size=4),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=300, deadline=None)
@given(tx=txs, cut=st.integers(0, 2000), flip=st.integers(0, 2000), bit=st.integers(0, 7))
def test_random_transactions_agree(tx, cut, flip, bit):
    raw = tx.serialize() + b"\x00\x01\x02"  # trailing bytes: the reader stops before them
    assert default(raw) == careful(raw)
    truncated = raw[: cut % (len(raw) + 1)]
    assert default(truncated) == careful(truncated)
    mutated = bytearray(raw)
    mutated[flip % len(mutated)] ^= 1 << bit
    assert default(bytes(mutated)) == careful(bytes(mutated))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_agree(data):
    assert default(data) == careful(data)
