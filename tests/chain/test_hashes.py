"""Hash functions (sandbox_chain.hashes) against NIST CAVP and the RIPEMD-160 authors' vectors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain import hashes
from sandbox_chain.hashes import hash160, hash256, ripemd160, ripemd160_pure, sha256


def parse_rsp(text: str) -> list[tuple[bytes, bytes]]:
    """(message, digest) pairs of a NIST CAVP SHAVS .rsp file, with LF or CRLF line ends."""
    cases = []
    length = None
    message = b""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Len ="):
            length = int(line.split("=")[1])
        elif line.startswith("Msg ="):
            message = bytes.fromhex(line.split("=")[1].strip())
        elif line.startswith("MD ="):
            assert length is not None and length % 8 == 0
            # For Len = 0 the file writes "Msg = 00" as a placeholder: the message is empty.
            cases.append((message[: length // 8], bytes.fromhex(line.split("=")[1].strip())))
            length = None
    return cases


def _rsp(vectors: Path, name: str, crlf: bool) -> list[tuple[bytes, bytes]]:
    data = (vectors / "nist-sha256" / name).read_bytes()
    if crlf:  # NIST's originals use CRLF; the stored copies are LF. Both must parse the same.
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return parse_rsp(data.decode("ascii"))


@pytest.mark.parametrize("crlf", [False, True], ids=["LF", "CRLF"])
@pytest.mark.parametrize(
    "name, count", [("SHA256ShortMsg.rsp", 65), ("SHA256LongMsg.rsp", 64)], ids=["short", "long"]
)
def test_sha256_nist_cavp(vectors, name, count, crlf):
    cases = _rsp(vectors, name, crlf)
    assert len(cases) == count
    if name.startswith("SHA256Short"):
        assert cases[0][0] == b""  # the Len = 0 placeholder was read as an empty message
    for message, digest in cases:
        assert sha256(message) == digest


def test_hash256_is_sha256_twice(vectors):
    message, digest = _rsp(vectors, "SHA256ShortMsg.rsp", False)[5]
    assert hash256(message) == sha256(digest)
    # Bitcoin's genesis block header hashes to the famous 000000000019d6...8ce26f.
    header = bytes.fromhex((vectors / "blocks" / "0.hex").read_text().strip())[:80]
    assert hash256(header)[::-1].hex() == (
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    )


# The test vectors published with RIPEMD-160 by its authors (Dobbertin, Bosselaers, Preneel:
# "RIPEMD-160: A Strengthened Version of RIPEMD", 1996, and the RIPEMD-160 page at KU Leuven).
RIPEMD160_VECTORS = [
    (b"", "9c1185a5c5e9fc54612808977ee8f548b2258d31"),
    (b"a", "0bdc9d2d256b3ee9daae347be6f4dc835a467ffe"),
    (b"abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
    (b"message digest", "5d0689ef49d2fae572b881b123a85ffa21595f36"),
    (b"abcdefghijklmnopqrstuvwxyz", "f71c27109c692c1b56bbdceb5b9d2865b3708dbc"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "12a053384a9c0c88e405a06c27dcf49ada62eb2b",
    ),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b0e20b6e3116640286ed3a87a5713079b21f5189",
    ),
    (b"1234567890" * 8, "9b752e45573d4b39f4dbd3323cab82bf63326bfb"),
    (b"a" * 1_000_000, "52783243c1697bdbe16d37f97f68f08325dc1528"),
]
_IDS = [m[:12].decode() or "empty" for m, _ in RIPEMD160_VECTORS]
_IDS[-1] = "million-a"


@pytest.mark.parametrize("message, digest_hex", RIPEMD160_VECTORS, ids=_IDS)
def test_ripemd160_pure(message, digest_hex):
    assert ripemd160_pure(message).hex() == digest_hex


@pytest.mark.parametrize("message, digest_hex", RIPEMD160_VECTORS, ids=_IDS)
def test_ripemd160_default_path(message, digest_hex):
    """Whichever path `ripemd160` takes here (OpenSSL when its legacy provider is on)."""
    assert ripemd160(message).hex() == digest_hex


def test_ripemd160_falls_back_without_openssl(monkeypatch):
    monkeypatch.setattr(hashes, "HAVE_OPENSSL_RIPEMD160", False)
    assert ripemd160(b"abc").hex() == "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"


def test_hash160_of_the_generator():
    # The compressed generator point (public key of the secret 1) behind the well-known
    # address 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH.
    g = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert hash160(g).hex() == "751e76e8199196d454941c45d1b3a323f1433bd6"


@pytest.mark.skipif(not hashes.HAVE_OPENSSL_RIPEMD160, reason="OpenSSL has no RIPEMD-160 here")
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_pure_ripemd160_matches_openssl(data):
    assert ripemd160_pure(data) == hashlib.new("ripemd160", data).digest()


@pytest.mark.skipif(not hashes.HAVE_OPENSSL_RIPEMD160, reason="OpenSSL has no RIPEMD-160 here")
def test_pure_ripemd160_matches_openssl_at_padding_boundaries():
    for n in range(50, 140):  # 55/56 and 119/120 bytes change the number of padded blocks
        assert (
            ripemd160_pure(bytes(range(256))[:n])
            == hashlib.new("ripemd160", bytes(range(256))[:n]).digest()
        )
