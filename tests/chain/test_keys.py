"""Keys, signatures, WIF and P2PKH addresses against published vectors (sandbox_chain.keys)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain import keys
from sandbox_chain.address import decode_wif, network_prefixes
from sandbox_chain.errors import ParseError
from sandbox_chain.keys import (
    HALF_N,
    N,
    PrivateKey,
    PublicKey,
    address_from_pubkey_hash,
    decode_address,
    decode_der,
    encode_der,
    is_low_s,
    is_strict_der,
    is_valid_pubkey_encoding,
    parse_der_lax,
    verify_signature,
)

# --- Bitcoin Core key_io vectors ----------------------------------------------------------------


@pytest.fixture
def key_io_valid(core_vectors):
    return core_vectors("key_io_valid.json")


def _is_p2pkh_script(script_hex: str) -> bool:
    return len(script_hex) == 50 and script_hex.startswith("76a914") and script_hex.endswith("88ac")


def test_key_io_valid_subset_sizes(key_io_valid):
    """Say how many of Core's 70 valid strings are in the sandbox's Base58 P2PKH/WIF subset."""
    rows = key_io_valid
    wif = [r for r in rows if r[2]["isPrivkey"]]
    p2pkh = [r for r in rows if not r[2]["isPrivkey"] and _is_p2pkh_script(r[1])]
    p2sh = [r for r in rows if not r[2]["isPrivkey"] and r[1].startswith("a914")]
    # The rest are bech32/bech32m segwit addresses, outside the sandbox's script subset.
    assert (len(rows), len(wif), len(p2pkh), len(p2sh)) == (70, 16, 11, 11)
    assert len(rows) - len(wif) - len(p2pkh) - len(p2sh) == 32


def test_key_io_valid_p2pkh_addresses(key_io_valid):
    checked = 0
    for text, script_hex, meta in key_io_valid:
        if meta["isPrivkey"] or not _is_p2pkh_script(script_hex):
            continue
        chain = meta["chain"]
        script = bytes.fromhex(script_hex)
        assert decode_address(text, chain) == script, text
        assert address_from_pubkey_hash(script[3:23], chain) == text
        # An address of another network family is refused.
        other = "regtest" if chain == "main" else "main"
        with pytest.raises(ParseError):
            decode_address(text, other)
        checked += 1
    assert checked == 11


def test_key_io_valid_wif_keys(key_io_valid):
    checked = 0
    for text, secret_hex, meta in key_io_valid:
        if not meta["isPrivkey"]:
            continue
        key = PrivateKey.from_wif(text, meta["chain"])
        assert key.to_bytes().hex() == secret_hex
        assert key.compressed == meta["isCompressed"]
        assert key.to_wif(network=meta["chain"]) == text
        checked += 1
    assert checked == 16


def test_key_io_valid_p2sh_is_refused_not_misread(key_io_valid):
    """P2SH needs BIP-16, which the sandbox lacks: decode must refuse it with a clear error."""
    for text, script_hex, meta in key_io_valid:
        if not meta["isPrivkey"] and script_hex.startswith("a914"):
            with pytest.raises(ParseError, match="P2SH"):
                decode_address(text, meta["chain"])


def test_key_io_invalid_rejected_everywhere(vectors):
    # Every row is one string, so core_vectors (which drops one-string comment rows) is
    # not usable here.
    rows = json.loads((vectors / "bitcoin-core" / "key_io_invalid.json").read_text())
    assert len(rows) == 70
    for (text,) in rows:
        for chain in ("main", "test", "regtest", "signet", "testnet4"):
            with pytest.raises(ParseError):
                decode_address(text, chain)
            with pytest.raises(ParseError):
                PrivateKey.from_wif(text, chain)
        with pytest.raises(ParseError):
            PrivateKey.from_wif(text)


def test_overlong_address_and_wif_text_is_refused_before_decoding():
    # Nodes decode addresses from RPC and REST requests: a megabyte of Base58 would take
    # minutes to turn into a number, so text longer than any address or key is refused first.
    text = "z" * 10_000
    with pytest.raises(ParseError, match="too long"):
        decode_address(text, "regtest")
    with pytest.raises(ParseError, match="too long"):
        PrivateKey.from_wif(text)


# --- Keys from published constants ------------------------------------------------------------

# secp256k1's generator G (SEC 2, section 2.4.1) is the public key of the secret 1.
G_COMPRESSED = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
G_UNCOMPRESSED = (
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
)


def test_secret_one_gives_the_generator():
    key = PrivateKey.from_int(1)
    assert key.public_key().sec().hex() == G_COMPRESSED
    assert key.public_key(compressed=False).sec().hex() == G_UNCOMPRESSED
    # Well-known mainnet addresses of the secret 1 (compressed and uncompressed).
    assert key.public_key().address("main") == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    assert key.public_key(compressed=False).address("main") == "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"


def test_sec_round_trip_and_sandbox_address():
    pub = PublicKey.from_sec(bytes.fromhex(G_UNCOMPRESSED))
    assert not pub.compressed
    assert pub.sec().hex() == G_UNCOMPRESSED
    assert pub.sec(compressed=True).hex() == G_COMPRESSED
    assert PublicKey.from_sec(bytes.fromhex(G_COMPRESSED)) == PublicKey(pub.x, pub.y, True)
    # The sandbox (regtest) P2PKH version byte 0x6f gives addresses starting m or n.
    assert pub.address()[0] in "mn"
    assert decode_address(pub.address()) == bytes.fromhex("76a914") + pub.hash160() + b"\x88\xac"


@pytest.mark.parametrize(
    "hex_key, why",
    [
        ("", "empty"),
        ("00", "point at infinity encoding"),
        (G_COMPRESSED[:-2], "32 bytes"),
        ("04" + G_UNCOMPRESSED[2:-2], "64 bytes"),
        ("05" + G_COMPRESSED[2:], "bad prefix"),
        ("06" + G_UNCOMPRESSED[2:], "hybrid prefix is not SEC compressed/uncompressed"),
        ("02" + "00" * 31 + "05", "x=5: x^3+7 = 132 is not a square mod p"),
        ("02" + "ff" * 32, "x >= p"),
        ("04" + G_UNCOMPRESSED[2:-2] + "b9", "y off by one: not on the curve"),
        (G_COMPRESSED + "00", "trailing byte"),
    ],
)
def test_from_sec_rejects(hex_key, why):
    with pytest.raises(ParseError):
        PublicKey.from_sec(hex_key)  # text, not bytes
    with pytest.raises(ParseError):
        PublicKey.from_sec(bytes.fromhex(hex_key))


@pytest.mark.parametrize("secret", [0, N, N + 1, -1])
def test_private_key_range(secret):
    with pytest.raises(ParseError):
        PrivateKey.from_int(secret)
    with pytest.raises(ParseError):
        PrivateKey.from_bytes(max(secret, 0).to_bytes(33, "big")[-32:] if secret >= 0 else b"")


def test_private_key_repr_hides_secret():
    assert "1234567" not in repr(PrivateKey.from_int(1234567))


# --- RFC 6979 known answers ---------------------------------------------------------------------

# Published on bitcointalk.org topic 285142 (msg3300992, "Haskoin test vectors for RFC 6979
# ECDSA (secp256k1, SHA-256)"): private key, message (signed as SHA-256(message)), low-S DER.
HASKOIN_VECTORS = [
    (
        "0000000000000000000000000000000000000000000000000000000000000001",
        "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn",
        "Everything should be made as simple as possible, but not simpler.",
        "3044022033a69cd2065432a30f3d1ce4eb0d59b8ab58c74f27c41a7fdb5696ad4e6108c9"
        "02206f807982866f785d3f6418d24163ddae117b7db4d5fdf0071de069fa54342262",
    ),
    (
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
        "L5oLkpV3aqBjhki6LmvChTCV6odsp4SXM6FfU2Gppt5kFLaHLuZ9",
        "Equations are more important to me, because politics is for the present, "
        "but an equation is something for eternity.",
        "3044022054c4a33c6423d689378f160a7ff8b61330444abb58fb470f96ea16d99d4a2fed"
        "022007082304410efa6b2943111b6a4e0aaa7b7db55a07e9861d1fb3cb1f421044a5",
    ),
    (
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",
        "L5oLkpV3aqBjhki6LmvChTCV6odsp4SXM6FfU2Gppt5kFLaHLuZ9",
        "Not only is the Universe stranger than we think, it is stranger than we can think.",
        "3045022100ff466a9f1b7b273e2f4c3ffe032eb2e814121ed18ef84665d0f515360dab3dd0"
        "02206fc95f5132e5ecfdc8e5e6e616cc77151455d46ed48f5589b7db7771a332b283",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000001",
        "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn",
        "How wonderful that we have met with a paradox. Now we have some hope of making progress.",
        "3045022100c0dafec8251f1d5010289d210232220b03202cba34ec11fec58b3e93a85b91d3"
        "022075afdc06b7d6322a590955bf264e7aaa155847f614d80078a90292fe205064d3",
    ),
    (
        "69ec59eaa1f4f2e36b639716b7c30ca86d9a5375c7b38d8918bd9c0ebc80ba64",
        "KzmcSTRmg8Gtoq8jbBCwsrvgiTKRrewQXniAHHTf7hsten8MZmBB",
        "Computer science is no more about computers than astronomy is about telescopes.",
        "304402207186363571d65e084e7f02b0b77c3ec44fb1b257dee26274c38c928986fea45d"
        "02200de0b38e06807e46bda1f1e293f4f6323e854c86d58abdd00c46c16441085df6",
    ),
    (
        "00000000000000000000000000007246174ab1e92e9149c6e446fe194d072637",
        "KwDiBf89QgGbjEhKnhXJwe1E2mCa8asowBrSKuCaBV6EsPYEAFZ8",
        "...if you aren't, at any given time, scandalized by code you wrote five or even three "
        "years ago, you're not learning anywhere near enough",
        "3045022100fbfe5076a15860ba8ed00e75e9bd22e05d230f02a936b653eb55b61c99dda487"
        "02200e68880ebb0050fe4312b1b1eb0899e1b82da89baa5b895f612619edf34cbd37",
    ),
    (
        "000000000000000000000000000000000000000000056916d0f9b31dc9b637f3",
        "KwDiBf89QgGbjEhKnhXJuH7LrciVrZiib5S9h4knkymNojPUVsWN",
        "The question of whether computers can think is like the question of whether "
        "submarines can swim.",
        "3045022100cde1302d83f8dd835d89aef803c74a119f561fbaef3eb9129e45f30de86abbf9"
        "022006ce643f5049ee1f27890467b77a6a8e11ec4661cc38cd8badf90115fbd03cef",
    ),
]


@pytest.mark.parametrize("secret_hex, wif, message, der_hex", HASKOIN_VECTORS)
def test_rfc6979_haskoin_vectors(secret_hex, wif, message, der_hex):
    key = PrivateKey.from_bytes(bytes.fromhex(secret_hex))
    assert PrivateKey.from_wif(wif) == key
    assert key.to_wif(network="main") == wif
    digest = hashlib.sha256(message.encode()).digest()
    signature = key.sign(digest)
    assert signature.hex() == der_hex
    assert key.public_key().verify(digest, signature)


# Published on bitcointalk.org topic 285142 (msg3299061): private key, message, the RFC 6979
# nonce k, and r || s *before* low-S normalization (several have s > n/2).
NONCE_VECTORS = [
    (
        1,
        "Satoshi Nakamoto",
        0x8F8A276C19F4149656B280621E358CCE24F5F52542772691EE69063B74F15D15,
        "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8"
        "dbbd3162d46e9f9bef7feb87c16dc13b4f6568a87f4e83f728e2443ba586675c",
    ),
    (
        1,
        "All those moments will be lost in time, like tears in rain. Time to die...",
        0x38AA22D72376B4DBC472E06C3BA403EE0A394DA63FC58D88686C611ABA98D6B3,
        "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b"
        "ab8019bbd8b6924cc4099fe625340ffb1eaac34bf4477daa39d0835429094520",
    ),
    (
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140,
        "Satoshi Nakamoto",
        0x33A19B60E25FB6F4435AF53A3D42D493644827367E6453928554F43E49AA6F90,
        "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d0"
        "94c632f14e4379fc1ea610a3df5a375152549736425ee17cebe10abbc2a2826c",
    ),
    (
        0xF8B8AF8CE3C7CCA5E300D33939540C10D45CE001B8F252BFBC57BA0342904181,
        "Alan Turing",
        0x525A82B70E67874398067543FD84C83D30C175FDC45FDEEE082FE13B1D7CFDF1,
        "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c"
        "a72033e1ff5ca1ea8d0c99001cb45f0272d3be7525d3049c0d9e98dc7582b857",
    ),
]


@pytest.mark.parametrize("secret, message, k, rs_hex", NONCE_VECTORS)
def test_rfc6979_nonce_and_low_s(secret, message, k, rs_hex):
    from ecdsa.rfc6979 import generate_k

    digest = hashlib.sha256(message.encode()).digest()
    assert generate_k(N, secret, hashlib.sha256, digest) == k
    r, s = int(rs_hex[:64], 16), int(rs_hex[64:], 16)
    signature = PrivateKey.from_int(secret).sign(digest)
    assert decode_der(signature) == (r, min(s, N - s))  # low-S applied on signing
    assert is_low_s(signature)
    # The high-S twin is valid ECDSA (consensus accepts it) but not low-S (policy refuses it).
    high = encode_der(r, max(s, N - s))
    pub = PrivateKey.from_int(secret).public_key().sec()
    assert verify_signature(pub, high, digest)
    assert not is_low_s(high)


# --- DER ----------------------------------------------------------------------------------------

VALID_DER = bytes.fromhex(HASKOIN_VECTORS[0][3])  # 70 bytes, r and s 32 bytes each


def _mutate(data: bytes, index: int, value: int) -> bytes:
    out = bytearray(data)
    out[index] = value
    return bytes(out)


def test_signature_encodings_are_importable_from_keys():
    # The DER rules live in sandbox_chain.signature; keys re-exports them for existing imports.
    from ecdsa import SECP256k1

    from sandbox_chain import signature

    assert N == signature.N == SECP256k1.order and HALF_N == signature.HALF_N
    for name in ("encode_der", "decode_der", "is_strict_der", "parse_der_lax", "is_low_s"):
        assert getattr(keys, name) is getattr(signature, name)


def test_strict_der_accepts_canonical_signatures():
    assert is_strict_der(VALID_DER + b"\x01")
    assert decode_der(VALID_DER) == (int(VALID_DER[4:36].hex(), 16), int(VALID_DER[38:].hex(), 16))
    # Smallest possible: r = s = 1 (9 bytes with the hash type).
    assert encode_der(1, 1) == bytes.fromhex("3006020101020101")
    assert is_strict_der(encode_der(1, 1) + b"\x01")
    assert encode_der(0x80, 0x7F) == bytes.fromhex("30070202008002017f")


@pytest.mark.parametrize(
    "sig, why",
    [
        (b"", "empty"),
        (encode_der(1, 1), "no hash-type byte: 8 bytes is too short"),
        (VALID_DER + b"\x01\x00", "trailing byte after the hash type"),
        (_mutate(VALID_DER, 0, 0x31) + b"\x01", "not a SEQUENCE"),
        (_mutate(VALID_DER, 1, 0x43) + b"\x01", "sequence length too short"),
        (_mutate(VALID_DER, 1, 0x45) + b"\x01", "sequence length too long"),
        (_mutate(VALID_DER, 2, 0x03) + b"\x01", "R is not an INTEGER"),
        (_mutate(VALID_DER, 3, 0x21) + b"\x01", "R length past S"),
        (_mutate(VALID_DER, 36, 0x03) + b"\x01", "S is not an INTEGER"),
        (_mutate(VALID_DER, 37, 0x21) + b"\x01", "S length wrong"),
        (_mutate(VALID_DER, 4, 0x83) + b"\x01", "R negative"),
        (_mutate(VALID_DER, 38, 0x83) + b"\x01", "S negative"),
        (bytes.fromhex("30070201000202007f01"), "S padded with a needless zero"),
        (bytes.fromhex("300702020001020101") + b"\x01", "R padded with a needless zero"),
        (bytes.fromhex("30050200020101") + b"\x01\x01\x01", "zero-length R"),
        (b"\x30\x46" + VALID_DER[2:] + b"\x00\x00" + b"\x01", "garbage inside the sequence"),
        (VALID_DER[:1] + bytes([0x48]) + VALID_DER[2:] + b"\x00" * 4, "73+ bytes"),
    ],
)
def test_strict_der_rejects(sig, why):
    assert not is_strict_der(sig)
    with pytest.raises(ParseError):
        decode_der(sig[:-1])


def test_lax_der_reads_what_old_blocks_contain():
    r, s = decode_der(VALID_DER)
    # Long-form lengths, padded integers and trailing junk are read by the lax parser.
    padded = b"\x30\x47\x02\x21\x00" + VALID_DER[4:36] + VALID_DER[36:38] + VALID_DER[38:]
    assert not is_strict_der(padded + b"\x01")
    assert parse_der_lax(padded) == (r, s)
    long_form = b"\x30\x81\x44\x02\x81\x20" + VALID_DER[4:36] + VALID_DER[36:] + b"junk"
    assert parse_der_lax(long_form) == (r, s)
    # An r of n or more is read as the never-valid (0, 0), which counts as low-S in Core.
    overflow = encode_der(N, s)
    assert parse_der_lax(overflow) == (0, 0)
    assert is_low_s(overflow)
    assert parse_der_lax(b"\x30") is None
    assert not is_low_s(b"")


def test_low_s_boundary():
    assert is_low_s(encode_der(1, HALF_N))
    assert not is_low_s(encode_der(1, HALF_N + 1))


@pytest.mark.parametrize(
    "hex_key, ok",
    [
        (G_COMPRESSED, True),
        (G_UNCOMPRESSED, True),
        ("03" + "00" * 32, True),  # only prefix and length are STRICTENC's business
        ("06" + G_UNCOMPRESSED[2:], False),  # hybrid
        (G_COMPRESSED[:-2], False),
        ("04" + G_COMPRESSED[2:], False),
        ("", False),
    ],
)
def test_pubkey_encoding_rule(hex_key, ok):
    assert is_valid_pubkey_encoding(bytes.fromhex(hex_key)) is ok


# --- Verification semantics ---------------------------------------------------------------------


@pytest.fixture(params=keys.available_backends())
def backend(request):
    previous = keys.set_backend(request.param)
    yield request.param
    keys.set_backend(previous)


def test_verify_signature_semantics(backend):
    key = PrivateKey.from_int(0xC0FFEE)
    digest = hashlib.sha256(b"pay 1 LUNE to Alice").digest()
    sig = key.sign(digest)
    pub_c, pub_u = key.public_key().sec(), key.public_key(compressed=False).sec()
    assert keys.get_backend() == backend
    assert verify_signature(pub_c, sig, digest)
    assert verify_signature(pub_u, sig, digest)  # same point, either encoding
    hybrid = bytes([6 + (pub_u[64] & 1)]) + pub_u[1:]
    assert verify_signature(hybrid, sig, digest)  # Core accepts hybrid keys without STRICTENC
    assert not verify_signature(pub_c, sig, hashlib.sha256(b"pay 2 LUNE").digest())
    assert not verify_signature(PrivateKey.from_int(2).public_key().sec(), sig, digest)
    assert not verify_signature(pub_c, sig, digest[:31])
    assert not verify_signature(b"", sig, digest)
    assert not verify_signature(pub_c, b"", digest)
    assert not verify_signature(pub_c + b"\x00", sig, digest)  # Core: length must match prefix


def test_set_backend_rejects_unknown():
    with pytest.raises(ValueError):
        keys.set_backend("openssl")
    with pytest.raises(ValueError):
        verify_signature(b"", b"", b"", backend="openssl")
    assert keys.set_backend("auto") in keys.available_backends()


# --- Properties ---------------------------------------------------------------------------------

secrets = st.integers(min_value=1, max_value=N - 1)
networks = st.sampled_from(["main", "regtest", "signet", "classroom"])


@settings(max_examples=30, deadline=None)
@given(secret=secrets, compressed=st.booleans(), network=networks)
def test_wif_and_sec_round_trip(secret, compressed, network):
    key = PrivateKey.from_int(secret, compressed)
    wif = key.to_wif(network=network)
    assert PrivateKey.from_wif(wif, network) == key
    assert decode_wif(wif)[2] == network_prefixes(network)
    pub = key.public_key()
    assert PublicKey.from_sec(pub.sec()) == pub
    assert decode_address(pub.address(network), network)[3:23] == pub.hash160()


@settings(max_examples=25, deadline=None)
@given(secret=secrets, digest=st.binary(min_size=32, max_size=32))
def test_sign_verify_property(secret, digest):
    key = PrivateKey.from_int(secret)
    sig = key.sign(digest)
    assert is_strict_der(sig + b"\x01") and is_low_s(sig)
    assert verify_signature(key.public_key().sec(), sig, digest)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80))
def test_byte_parsers_raise_only_parse_error(data):
    for parse in (PublicKey.from_sec, decode_der):
        try:
            parse(data)
        except ParseError:
            pass
    assert parse_der_lax(data) is None or isinstance(parse_der_lax(data), tuple)
    assert isinstance(is_strict_der(data), bool)
    assert isinstance(is_low_s(data), bool)
    assert isinstance(is_valid_pubkey_encoding(data), bool)
    assert verify_signature(data, data, data) is False or len(data) == 32


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60) | st.text(alphabet="123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefgh"))
def test_text_decoders_raise_only_parse_error(text):
    for decode in (decode_address, PrivateKey.from_wif, lambda t: decode_address(t, "main")):
        try:
            decode(text)
        except ParseError:
            pass


def test_network_parameter_sets_are_accepted():
    """The node passes its NetworkParams; names and parameter sets give the same bytes."""
    from sandbox_chain.params import MAINNET, REGTEST

    key = PrivateKey.from_int(1)
    assert key.public_key().address(MAINNET) == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"
    assert key.public_key().address(REGTEST) == key.public_key().address("regtest")
    assert key.to_wif(network=MAINNET) == "KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn"
    assert PrivateKey.from_wif(key.to_wif(network=REGTEST), REGTEST) == key
    with pytest.raises(ParseError):
        decode_address("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", REGTEST)
    with pytest.raises(ValueError):
        decode_address("1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH", "moonnet")


def test_repeated_keys_stay_correct_through_the_caches(monkeypatch):
    """A key used often gets a precomputed table; the table cache is bounded and evicts."""
    monkeypatch.setattr(keys, "_PRECOMPUTED_MAX", 2)
    keys.clear_key_caches()
    digest = hashlib.sha256(b"rent").digest()
    signers = [PrivateKey.from_int(100 + i) for i in range(3)]
    triples = [(k.public_key().sec(), k.sign(digest)) for k in signers]
    for _ in range(keys._PRECOMPUTE_AFTER_USES + 2):
        for pub, sig in triples:
            assert verify_signature(pub, sig, digest, backend="ecdsa")
            assert not verify_signature(pub, sig, digest[::-1], backend="ecdsa")
    assert len(keys._precomputed) == 2
    keys.clear_key_caches()
    assert not keys._precomputed


@settings(max_examples=200, deadline=None)
@given(
    version=st.sampled_from([0x00, 0x05, 0x6F, 0xC4, 0x80, 0xEF, 0x01]),
    body=st.binary(min_size=19, max_size=35),
)
def test_checksummed_random_payloads_raise_only_parse_error(version, body):
    """Valid Base58Check around random payloads: the length/version/range rules decide."""
    from sandbox_chain.encoding import b58check_encode

    text = b58check_encode(bytes([version]) + body)
    for decode in (decode_address, PrivateKey.from_wif, lambda t: PrivateKey.from_wif(t, "main")):
        try:
            decode(text)
        except ParseError:
            pass


def test_public_key_must_be_on_the_curve():
    g = PublicKey.from_sec(bytes.fromhex(G_COMPRESSED))
    with pytest.raises(ParseError):
        PublicKey(g.x, g.y + 1)
