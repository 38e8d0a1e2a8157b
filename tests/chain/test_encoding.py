"""Byte encodings (sandbox_chain.encoding): CompactSize, hex hashes, Base58 and Base58Check."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.encoding import (
    MAX_SIZE,
    ByteReader,
    b58check_decode,
    b58check_encode,
    b58decode,
    b58encode,
    encode_varint,
    hash_to_hex,
    hex_to_hash,
    int_to_le,
    le_to_int,
    parse_hex,
)
from sandbox_chain.errors import ParseError

# --- CompactSize ----------------------------------------------------------------------------------

# Boundaries of Bitcoin's CompactSize (serialize.h): 1, 3, 5 and 9 bytes.
VARINTS = [
    (0, "00"),
    (0xFC, "fc"),
    (0xFD, "fdfd00"),
    (0xFFFF, "fdffff"),
    (0x10000, "fe00000100"),
    (0xFFFFFFFF, "feffffffff"),
    (0x100000000, "ff0000000001000000"),
    (2**64 - 1, "ffffffffffffffffff"),
]


@pytest.mark.parametrize("value, hex_", VARINTS)
def test_varint_boundaries(value, hex_):
    assert encode_varint(value).hex() == hex_
    reader = ByteReader(bytes.fromhex(hex_))
    assert reader.read_varint(limit=2**64) == value
    assert reader.at_end()


@pytest.mark.parametrize(
    "hex_",
    ["fdfc00", "fd0000", "feffff0000", "fe00000000", "ffffffffff00000000", "ff0000000000000000"],
)
def test_non_canonical_varints_rejected(hex_):
    with pytest.raises(ParseError, match="non-canonical"):
        ByteReader(bytes.fromhex(hex_)).read_varint(limit=2**64)


def test_varint_limit_and_truncation():
    assert ByteReader(encode_varint(MAX_SIZE)).read_varint() == MAX_SIZE
    with pytest.raises(ParseError, match="exceeds"):
        ByteReader(encode_varint(MAX_SIZE + 1)).read_varint()
    for hex_ in ["", "fd", "fdff", "fe000001", "ff00000000000001"]:
        with pytest.raises(ParseError):
            ByteReader(bytes.fromhex(hex_)).read_varint(limit=2**64)
    for bad in (-1, 2**64):
        with pytest.raises(ValueError):
            encode_varint(bad)


def test_byte_reader():
    reader = ByteReader(bytes.fromhex("0102030405") + b"\x03abc")
    assert reader.read_int(2) == 0x0201
    assert reader.read(3) == b"\x03\x04\x05"
    assert reader.remaining() == 4
    assert reader.read_var_bytes() == b"abc"
    reader.expect_end("the test record")
    with pytest.raises(ParseError, match="unexpected end"):
        reader.read(1)
    short = ByteReader(b"\x05ab")
    with pytest.raises(ParseError):
        short.read_var_bytes()
    with pytest.raises(ParseError, match="trailing"):
        ByteReader(b"x").expect_end("nothing")
    assert int_to_le(0x12345678, 4).hex() == "78563412"
    assert le_to_int(bytes.fromhex("78563412")) == 0x12345678


def test_read_count_refuses_counts_the_remaining_bytes_cannot_hold():
    # Three 2-byte items need 6 bytes after the count: 6 are there, 5 are not.
    assert ByteReader(b"\x03" + bytes(6)).read_count(2, "item") == 3
    with pytest.raises(ParseError, match="item count 3 is larger than the remaining 5 bytes"):
        ByteReader(b"\x03" + bytes(5)).read_count(2, "item")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_varint_round_trip(value):
    encoded = encode_varint(value)
    assert len(encoded) == (
        1 if value < 0xFD else 3 if value <= 0xFFFF else 5 if value <= 0xFFFFFFFF else 9
    )
    reader = ByteReader(encoded + b"tail")
    assert reader.read_varint(limit=2**64) == value
    assert reader.read(4) == b"tail"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=20))
def test_reader_on_random_bytes_raises_only_parse_error(data):
    for read in (
        lambda r: r.read_varint(),
        lambda r: r.read_varint(limit=2**64),
        lambda r: r.read_var_bytes(),
    ):
        try:
            read(ByteReader(data))
        except ParseError:
            pass


# --- Hex -----------------------------------------------------------------------------------------

GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def test_hashes_are_shown_byte_reversed():
    internal = hex_to_hash(GENESIS)
    assert internal[:4] == bytes.fromhex("6fe28c0a")  # the header stores it little-endian
    assert hash_to_hex(internal) == GENESIS


@pytest.mark.parametrize("bad", ["", "00", GENESIS[:-1], GENESIS + "00", "zz" * 32, None, 5])
def test_hex_to_hash_rejects(bad):
    with pytest.raises(ParseError):
        hex_to_hash(bad)


def test_parse_hex():
    assert parse_hex("00ff") == b"\x00\xff"
    for bad in ("0", "0g", "é", None):
        with pytest.raises(ParseError):
            parse_hex(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=70))
def test_hex_parsers_raise_only_parse_error(text):
    for parse in (hex_to_hash, parse_hex):
        try:
            parse(text)
        except ParseError:
            pass


# --- Base58 -----------------------------------------------------------------------------------


def test_base58_bitcoin_core_vectors(core_vectors):
    rows = core_vectors("base58_encode_decode.json")
    assert len(rows) == 21
    for hex_, text in rows:
        assert b58encode(bytes.fromhex(hex_)) == text
        assert b58decode(text).hex() == hex_.lower()  # one vector writes its hex in capitals


def test_base58_decode_rules_of_bitcoin_core():
    # The same checks as Bitcoin Core's base58_DecodeBase58 unit test: invalid characters fail,
    # whitespace around the string is skipped, whitespace or NUL inside it fails.
    with pytest.raises(ParseError):
        b58decode("invalid")  # 'l' is not in the alphabet
    with pytest.raises(ParseError):
        b58decode("invalid\0")
    with pytest.raises(ParseError):
        b58decode("good\0bad")
    assert b58decode(" \t\n\v\f\r skip \r\f\v\n\t ").hex() == "971a55"
    with pytest.raises(ParseError):
        b58decode(" \t\n\v\f\r skip \r\f\v\n\t a")
    for ambiguous in "0OIl":
        with pytest.raises(ParseError):
            b58decode("1" + ambiguous)


def test_base58check():
    # A key_io vector: mainnet P2PKH address = version 0x00 + HASH160.
    payload = bytes.fromhex("00a31c06bd463e3923bc1aadbde48b16976c080717")
    assert b58check_encode(payload) == "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo"
    assert b58check_decode("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo") == payload
    with pytest.raises(ParseError, match="checksum"):
        b58check_decode("1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mp")
    with pytest.raises(ParseError, match="shorter"):
        b58check_decode("111")
    assert b58check_decode(b58check_encode(b"")) == b""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_base58_round_trips(data):
    assert b58decode(b58encode(data)) == data
    assert b58check_decode(b58check_encode(data)) == data
    text = b58encode(data)
    assert len(text) - len(text.lstrip("1")) == len(data) - len(data.lstrip(b"\0"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.integers(min_value=0, max_value=80))
def test_base58_max_len_never_refuses_what_fits(data, max_len):
    # The length cap is a quick refusal of text that cannot fit; it must not refuse data that
    # does (all-0xff and all-zero data are the densest and the sparsest encodings).
    for payload in (data, b"\xff" * len(data), bytes(len(data))):
        if len(payload) <= max_len:
            assert b58decode(b58encode(payload), max_len=max_len) == payload
            assert b58check_decode(b58check_encode(payload), max_len=max_len) == payload


def test_base58_text_too_long_for_max_len_is_refused_before_decoding():
    # Decoding is quadratic in the text's length; Core's DecodeBase58 stops at max_ret_len.
    with pytest.raises(ParseError, match="too long"):
        b58decode("z" * 10_000, max_len=25)
    with pytest.raises(ParseError, match="too long"):
        b58check_decode("z" * 10_000, max_len=21)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=50), st.text(alphabet="123456789abcdefghijkmnopqrstuvwxyz", max_size=50)
    )
)
def test_base58_decoders_raise_only_parse_error(text):
    for decode in (b58decode, b58check_decode):
        try:
            decode(text)
        except ParseError:
            pass
