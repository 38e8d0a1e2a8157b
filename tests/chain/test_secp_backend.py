"""Differential tests: the libsecp256k1 backend answers exactly as the `ecdsa` backend does.

The node verifies with libsecp256k1 (coincurve) for speed; learners read the `ecdsa` path. If
the two ever disagreed, a block could be valid for one and invalid for the other — a consensus
split between a learner's notebook and the node. So every kind of input is run through both.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox_chain import keys, secp_backend
from sandbox_chain.errors import ParseError
from sandbox_chain.keys import HALF_N, N, P, PrivateKey, PublicKey, encode_der, verify_signature

coincurve = pytest.importorskip("coincurve")
pytestmark = pytest.mark.skipif(not secp_backend.AVAILABLE, reason="coincurve not importable")


def both(pub: bytes, sig: bytes, digest: bytes) -> bool:
    """Verify with each backend, insist they agree, return the common answer."""
    a = verify_signature(pub, sig, digest, backend="ecdsa")
    b = verify_signature(pub, sig, digest, backend="coincurve")
    assert a == b, (pub.hex(), sig.hex(), digest.hex(), a, b)
    return a


KEY = PrivateKey.from_int(0x5EED)
PUB_C = KEY.public_key().sec()
PUB_U = KEY.public_key(compressed=False).sec()
DIGEST = hashlib.sha256(b"lune academy").digest()
SIG = KEY.sign(DIGEST)
R, S = keys.decode_der(SIG)


def _hybrid(pub_u: bytes, flip: bool = False) -> bytes:
    return bytes([6 + ((pub_u[64] & 1) ^ flip)]) + pub_u[1:]


EXPLICIT_CASES = [
    # (public key, signature, digest, expected answer, what)
    (PUB_C, SIG, DIGEST, True, "valid, compressed key"),
    (PUB_U, SIG, DIGEST, True, "valid, uncompressed key"),
    (_hybrid(PUB_U), SIG, DIGEST, True, "valid, hybrid key"),
    (_hybrid(PUB_U, flip=True), SIG, DIGEST, False, "hybrid key with the wrong parity"),
    (PUB_C, SIG, hashlib.sha256(b"other").digest(), False, "wrong message"),
    (PrivateKey.from_int(7).public_key().sec(), SIG, DIGEST, False, "wrong key"),
    (PUB_C, encode_der(R, N - S), DIGEST, True, "high-S twin (consensus accepts it)"),
    (PUB_C, encode_der(R, S + 1), DIGEST, False, "s off by one"),
    (PUB_C, encode_der(0, S), DIGEST, False, "r = 0"),
    (PUB_C, encode_der(R, 0), DIGEST, False, "s = 0"),
    (PUB_C, encode_der(R + N, S), DIGEST, False, "r + n (overflow)"),
    (PUB_C, encode_der(R, S + N), DIGEST, False, "s + n (overflow)"),
    (PUB_C, encode_der(N, N), DIGEST, False, "r = s = n"),
    (PUB_C, b"\x30\x46\x02\x21\x00" + SIG[4:] + b"", DIGEST, True, "lax DER: padded r"),
    (PUB_C, SIG + b"\x00\x00", DIGEST, True, "lax DER: trailing bytes"),
    (PUB_C, b"\x30\x81" + SIG[1:], DIGEST, True, "lax DER: long-form sequence length"),
    (PUB_C, SIG[:-1], DIGEST, False, "truncated signature"),
    (PUB_C, b"", DIGEST, False, "empty signature"),
    (PUB_C[:-1], SIG, DIGEST, False, "short key"),
    (PUB_C + b"\x00", SIG, DIGEST, False, "long key"),
    (b"\x05" + PUB_C[1:], SIG, DIGEST, False, "bad prefix"),
    (b"\x02" + P.to_bytes(32, "big"), SIG, DIGEST, False, "x = p"),
    (b"\x02" + (5).to_bytes(32, "big"), SIG, DIGEST, False, "x not on the curve"),
    (PUB_U[:-1] + bytes([PUB_U[-1] ^ 1]), SIG, DIGEST, False, "uncompressed point off the curve"),
    (b"", SIG, DIGEST, False, "empty key"),
    (PUB_C, SIG, DIGEST[:31], False, "31-byte digest"),
]


@pytest.mark.parametrize(
    "pub, sig, digest, expected, what", EXPLICIT_CASES, ids=[c[-1] for c in EXPLICIT_CASES]
)
def test_explicit_cases_agree(pub, sig, digest, expected, what):
    assert both(pub, sig, digest) is expected


def test_digest_at_or_above_the_order_is_reduced_identically():
    """A sighash is a 256-bit number that may exceed n; both libraries reduce it mod n."""
    for digest_int in (0, N - 1, N, N + 1, 2**256 - 1):
        digest = digest_int.to_bytes(32, "big")
        sig = KEY.sign(digest)
        assert both(PUB_C, sig, digest)
        # The digest d and d + n are the same number mod n: a signature covers both.
        if digest_int + N < 2**256:
            assert both(PUB_C, sig, (digest_int + N).to_bytes(32, "big"))


def test_public_key_parsers_agree_on_sec_inputs():
    """keys' Python point decoder and libsecp256k1's secp256k1_ec_pubkey_parse agree."""
    for x in range(1, 60):
        for prefix in (2, 3):
            data = bytes([prefix]) + x.to_bytes(32, "big")
            try:
                PublicKey.from_sec(data)
                ours = True
            except ParseError:
                ours = False
            try:
                coincurve.PublicKey(data)
                theirs = True
            except ValueError:
                theirs = False
            assert ours == theirs, data.hex()


# --- Property-based agreement -----------------------------------------------------------------

secrets = st.integers(min_value=1, max_value=N - 1)
digests = st.binary(min_size=32, max_size=32)


@settings(max_examples=40, deadline=None)
@given(secret=secrets, digest=digests)
def test_signatures_equal_libsecp256k1_signatures(secret, digest):
    """RFC 6979 + low-S through `ecdsa` gives libsecp256k1's signature byte for byte."""
    ours = PrivateKey.from_int(secret).sign(digest)
    theirs = coincurve.PrivateKey(secret.to_bytes(32, "big")).sign(digest, hasher=None)
    assert ours == theirs


@settings(max_examples=40, deadline=None)
@given(secret=secrets, digest=digests, compressed=st.booleans())
def test_strict_signatures_agree_with_libsecp256k1_own_der_parser(secret, digest, compressed):
    key = PrivateKey.from_int(secret)
    pub = key.public_key(compressed).sec()
    sig = key.sign(digest)
    oracle = coincurve.PublicKey(pub)
    assert both(pub, sig, digest) is oracle.verify(sig, digest, hasher=None) is True
    other = hashlib.sha256(digest).digest()
    assert both(pub, sig, other) is oracle.verify(sig, other, hasher=None) is False


def _mutations():
    """A valid (key, signature, digest) triple with one thing changed, or nothing."""
    byte_flip = st.tuples(st.integers(0, 200), st.integers(1, 255))
    return st.one_of(
        st.just(("none", None)),
        st.tuples(st.just("sig"), byte_flip),
        st.tuples(st.just("pub"), byte_flip),
        st.tuples(st.just("digest"), byte_flip),
        st.tuples(st.just("high_s"), st.none()),
        st.tuples(st.just("r"), st.integers(0, 2**256 - 1)),
        st.tuples(st.just("s"), st.integers(0, 2**256 - 1)),
        st.tuples(st.just("hybrid"), st.booleans()),
        st.tuples(st.just("truncate"), st.integers(0, 72)),
        st.tuples(st.just("append"), st.binary(min_size=1, max_size=8)),
    )


def _flip(data: bytes, where: tuple[int, int]) -> bytes:
    index, mask = where
    if not data:
        return data
    out = bytearray(data)
    out[index % len(out)] ^= mask
    return bytes(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=secrets, digest=digests, compressed=st.booleans(), mutation=_mutations())
def test_mutated_inputs_agree(secret, digest, compressed, mutation):
    key = PrivateKey.from_int(secret)
    pub = key.public_key(compressed).sec()
    sig = key.sign(digest)
    r, s = keys.decode_der(sig)
    kind, arg = mutation
    if kind == "sig":
        sig = _flip(sig, arg)
    elif kind == "pub":
        pub = _flip(pub, arg)
    elif kind == "digest":
        digest = _flip(digest, arg)
    elif kind == "high_s":
        sig = encode_der(r, N - s)
    elif kind == "r":
        sig = encode_der(arg, s)
    elif kind == "s":
        sig = encode_der(r, arg)
    elif kind == "hybrid":
        pub = _hybrid(key.public_key(False).sec(), flip=arg)
    elif kind == "truncate":
        sig = sig[:arg]
    elif kind == "append":
        sig = sig + arg
    result = both(pub, sig, digest)
    if kind in ("none", "high_s", "append") or (kind == "hybrid" and not arg):
        assert result
    if kind == "high_s":
        assert s <= HALF_N and not keys.is_low_s(sig)


def _prefixed(prefixes: list[int], size: int):
    """Well-formed-looking keys: a valid prefix and random coordinates of the right size."""
    return st.builds(
        lambda p, body: bytes([p]) + body,
        st.sampled_from(prefixes),
        st.binary(min_size=size, max_size=size),
    )


@settings(max_examples=300, deadline=None)
@given(
    pub=st.one_of(
        st.binary(max_size=70),
        st.builds(
            lambda p, b: bytes([p]) + b,
            st.sampled_from([2, 3]),
            st.binary(min_size=32, max_size=32),
        ),
        st.builds(
            lambda p, b: bytes([p]) + b,
            st.sampled_from([4, 6, 7]),
            st.binary(min_size=64, max_size=64),
        ),
        st.just(PUB_C),
    ),
    sig=st.one_of(st.binary(max_size=80), st.just(SIG)),
    digest=st.one_of(st.binary(max_size=33), st.just(DIGEST)),
)
def test_random_garbage_agrees_and_never_raises(pub, sig, digest):
    expected = pub == PUB_C and sig == SIG and digest == DIGEST
    assert both(pub, sig, digest) is expected


def test_first_bitcoin_payment_verifies_on_both_backends(vectors):
    """Block 170: Satoshi pays Hal Finney, spending block 9's coinbase (a P2PK output)."""
    from sandbox_chain.block import Block
    from sandbox_chain.sighash import legacy_sighash

    def block(height: int) -> Block:
        return Block.parse(bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text()))

    tx = block(170).txs[1]
    assert tx.txid()[::-1].hex().startswith("f4184fc5")
    prev_script = block(9).txs[0].vout[0].script_pubkey  # <65-byte key> OP_CHECKSIG
    pub = prev_script[1:66]
    script_sig = tx.vin[0].script_sig
    sig = script_sig[1 : 1 + script_sig[0]]  # DER || SIGHASH_ALL
    assert keys.is_strict_der(sig) and keys.is_low_s(sig[:-1])
    digest = legacy_sighash(tx, 0, prev_script, sig[-1])
    assert both(pub, sig[:-1], digest)
    assert not both(pub, sig[:-1], bytes(32))
