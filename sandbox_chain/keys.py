"""secp256k1 keys and ECDSA signatures as Bitcoin uses them.

Specs followed:

* SEC 1 v2 §2.3.3–2.3.4 for public-key encodings (33-byte compressed `02`/`03` || x, 65-byte
  uncompressed `04` || x || y).
* RFC 6979 deterministic nonces (through the `ecdsa` package) and BIP-62/BIP-146's low-S rule:
  a signature with s > n/2 is replaced by (r, n - s), which verifies the same.
* Bitcoin Core's `CPubKey::Verify` semantics for verification: the signature is read by the
  *lax* DER parser (`ecdsa_signature_parse_der_lax`, pubkey.cpp) and high-S is accepted. Strict
  encoding is a separate rule that the script interpreter applies through `is_strict_der`,
  `is_low_s` and `is_valid_pubkey_encoding` when its flags ask for it.

The signature encodings (DER, BIP-66, lax parsing, low-S) live in `sandbox_chain.signature` and
are re-exported here, where the rest of the library and the course notebooks import them.

Learners see the `ecdsa` package at work here. The node verifies through libsecp256k1 (the
`coincurve` package, see `secp_backend`) when it is installed; a differential test shows that
both backends give the same answer for every input.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ecdsa import SECP256k1, SigningKey, VerifyingKey
from ecdsa.ecdsa import Signature
from ecdsa.ellipticcurve import PointJacobi

from . import secp_backend
from .address import (
    DEFAULT_NETWORK,
    address_from_pubkey_hash,
    decode_address,
    decode_wif,
    encode_wif,
)
from .errors import ParseError
from .hashes import hash160
from .signature import (
    HALF_N,
    N,
    decode_der,
    encode_der,
    is_low_s,
    is_strict_der,
    parse_der_lax,
)

__all__ = [
    "HALF_N",
    "N",
    "P",
    "PrivateKey",
    "PublicKey",
    "address_from_pubkey_hash",
    "decode_address",
    "decode_der",
    "demo_key",
    "encode_der",
    "get_backend",
    "is_low_s",
    "is_strict_der",
    "is_valid_pubkey_encoding",
    "parse_der_lax",
    "set_backend",
    "verify_signature",
]

# Curve y^2 = x^3 + 7 over the field of P; G generates a group of prime order N (signature.N).
P = 2**256 - 2**32 - 977


# --- Public-key encodings -------------------------------------------------------------------


def is_valid_pubkey_encoding(pub: bytes) -> bool:
    """STRICTENC's public-key rule (Core's `IsCompressedOrUncompressedPubKey`).

    Only the prefix byte and length are checked: 33 bytes starting 02/03, or 65 bytes starting 04.
    """
    if len(pub) == 33:
        return pub[0] in (0x02, 0x03)
    if len(pub) == 65:
        return pub[0] == 0x04
    return False


# --- Points ---------------------------------------------------------------------------------


def _lift_x(x: int, odd: bool) -> int | None:
    """The y with y^2 = x^3 + 7 and the parity asked for, or None when x is not on the curve."""
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)  # P = 3 mod 4, so this is a square root when one exists
    if y * y % P != y_sq:
        return None
    return P - y if (y & 1) != odd else y


def _decode_point(data: bytes, *, allow_hybrid: bool) -> tuple[int, int]:
    """(x, y) of a SEC-encoded point; ParseError for a bad length, prefix or off-curve point."""
    if len(data) == 33 and data[0] in (0x02, 0x03):
        x = int.from_bytes(data[1:], "big")
        y = _lift_x(x, data[0] == 0x03)
        if y is None:
            raise ParseError("compressed public key: x is not the coordinate of a curve point")
        return x, y
    if len(data) == 65 and (data[0] == 0x04 or (allow_hybrid and data[0] in (0x06, 0x07))):
        x = int.from_bytes(data[1:33], "big")
        y = int.from_bytes(data[33:], "big")
        if x >= P or y >= P or (y * y - x * x * x - 7) % P:
            raise ParseError("uncompressed public key: the point is not on secp256k1")
        if data[0] != 0x04 and (y & 1) != (data[0] & 1):  # hybrid keys repeat y's parity
            raise ParseError("hybrid public key: prefix parity does not match y")
        return x, y
    raise ParseError(
        f"a public key is 33 bytes (02/03 prefix) or 65 bytes (04 prefix), got {len(data)} "
        f"bytes starting {data[:1].hex() or 'with nothing'}"
    )


# --- Keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    """A point on secp256k1, remembering whether it is shown compressed."""

    x: int  # 32 bytes big endian in SEC encodings
    y: int  # 32 bytes big endian (uncompressed), or only its parity (compressed prefix)
    compressed: bool = True

    def __post_init__(self) -> None:
        if not (0 <= self.x < P and 0 <= self.y < P and (self.y**2 - self.x**3 - 7) % P == 0):
            raise ParseError("(x, y) is not a point on secp256k1")

    @classmethod
    def from_sec(cls, data: bytes) -> PublicKey:
        """Parse a SEC 1 public key (33-byte compressed or 65-byte uncompressed)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ParseError(f"a public key is bytes, not {type(data).__name__}")
        data = bytes(data)
        x, y = _decode_point(data, allow_hybrid=False)
        return cls(x, y, compressed=len(data) == 33)

    def sec(self, compressed: bool | None = None) -> bytes:
        """SEC 1 encoding; `compressed=None` uses the form this key was created with."""
        if compressed is None:
            compressed = self.compressed
        if compressed:
            return bytes([0x03 if self.y & 1 else 0x02]) + self.x.to_bytes(32, "big")
        return b"\x04" + self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    def hash160(self, compressed: bool | None = None) -> bytes:
        """HASH160 of the SEC encoding: what a P2PKH address and script commit to."""
        return hash160(self.sec(compressed))

    def address(self, network: Any = DEFAULT_NETWORK, compressed: bool | None = None) -> str:
        """The P2PKH address of this key on `network` (default: the sandbox's regtest)."""
        return address_from_pubkey_hash(self.hash160(compressed), network)

    def verify(self, digest32: bytes, der_sig: bytes) -> bool:
        """Does `der_sig` (no hash-type byte) sign the 32-byte `digest32` with this key?"""
        return verify_signature(self.sec(), der_sig, digest32)


@dataclass(frozen=True)
class PrivateKey:
    """A secret scalar 1 <= secret < n. `compressed` is the WIF flag: which public-key form
    this key's addresses use."""

    secret: int
    compressed: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.secret, int) or not 1 <= self.secret < N:
            raise ParseError("a private key is an integer from 1 to n - 1")

    def __repr__(self) -> str:  # never print a secret by accident
        return f"PrivateKey(<secret>, compressed={self.compressed})"

    @classmethod
    def from_int(cls, secret: int, compressed: bool = True) -> PrivateKey:
        """A key from its secret number (1 <= secret < n)."""
        return cls(secret, compressed)

    @classmethod
    def from_bytes(cls, data: bytes, compressed: bool = True) -> PrivateKey:
        """A key from its 32-byte big-endian secret."""
        if len(data) != 32:
            raise ParseError(f"a private key is 32 bytes, got {len(data)}")
        return cls(int.from_bytes(data, "big"), compressed)

    @classmethod
    def from_wif(cls, text: str, network: Any = None) -> PrivateKey:
        """Decode WIF; `network=None` accepts mainnet and test-network version bytes."""
        secret, compressed, _ = decode_wif(text, network)
        return cls.from_bytes(secret, compressed)

    def to_bytes(self) -> bytes:
        """The 32-byte big-endian secret."""
        return self.secret.to_bytes(32, "big")

    def to_wif(self, compressed: bool | None = None, network: Any = DEFAULT_NETWORK) -> str:
        """WIF text; `compressed=None` keeps this key's flag."""
        flag = self.compressed if compressed is None else compressed
        return encode_wif(self.to_bytes(), flag, network)

    def public_key(self, compressed: bool | None = None) -> PublicKey:
        """The public key secret·G; `compressed=None` keeps this key's flag."""
        flag = self.compressed if compressed is None else compressed
        point = _signing_key(self.secret).get_verifying_key().pubkey.point
        return PublicKey(point.x(), point.y(), flag)

    def sign(self, digest32: bytes) -> bytes:
        """Sign a 32-byte digest: RFC 6979 nonce, low-S, DER-encoded (no hash-type byte)."""
        if len(digest32) != 32:
            raise ValueError(f"a signature hash is 32 bytes, got {len(digest32)}")
        r, s = _signing_key(self.secret).sign_digest_deterministic(
            digest32, hashfunc=hashlib.sha256, sigencode=lambda r, s, order: (r, s)
        )
        if s > HALF_N:  # BIP-62/146: (r, n - s) is equally valid and the only standard form
            s = N - s
        return encode_der(r, s)


# The demo wallet's key (`lune demo`, `lune chain mine`/`send`/`balance` without an address):
# a fixed, public teaching key. Never use it for anything of value.
DEMO_SECRET = 0x1A2B3C4D5E6F


def demo_key() -> PrivateKey:
    """The demo wallet's private key (public knowledge: for the sandbox only)."""
    return PrivateKey.from_int(DEMO_SECRET)


@functools.lru_cache(maxsize=256)
def _signing_key(secret: int) -> SigningKey:
    return SigningKey.from_secret_exponent(secret, curve=SECP256k1, hashfunc=hashlib.sha256)


# --- Verification backends ------------------------------------------------------------------


# Precomputing a key's multiplication table costs about six verifications and makes each later
# one twice as fast, but takes ~47 KB: only keys seen again (an address paid many times) get
# one, and only the most recently used _PRECOMPUTED_MAX keep it.
_PRECOMPUTE_AFTER_USES = 4
_PRECOMPUTED_MAX = 256
_precomputed: OrderedDict[bytes, VerifyingKey] = OrderedDict()
_precomputed_lock = threading.Lock()


def _verifying_key(x: int, y: int) -> VerifyingKey:
    # VerifyingKey.from_string(...).precompute() raises in ecdsa 0.19.2; a key built from a
    # PointJacobi can be precomputed.
    point = PointJacobi(SECP256k1.curve, x, y, 1, N, generator=False)
    return VerifyingKey.from_public_point(point, curve=SECP256k1, hashfunc=hashlib.sha256)


class _CachedVerifyingKey:
    __slots__ = ("key", "uses", "x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y
        self.key = _verifying_key(x, y)
        self.uses = 0


@functools.lru_cache(maxsize=4096)
def _ecdsa_verifying_key(pub: bytes) -> _CachedVerifyingKey | None:
    """Parsed key, cached (LRU, ~1 KB each): the same public key verifies many signatures."""
    if not pub or len(pub) != _sec_length(pub[0]):
        return None
    try:
        return _CachedVerifyingKey(*_decode_point(pub, allow_hybrid=True))
    except ParseError:
        return None


def _ecdsa_key_for(pub: bytes) -> VerifyingKey | None:
    with _precomputed_lock:
        key = _precomputed.get(pub)
        if key is not None:
            _precomputed.move_to_end(pub)
            return key
        cached = _ecdsa_verifying_key(pub)
        if cached is None:
            return None
        cached.uses += 1
        if cached.uses < _PRECOMPUTE_AFTER_USES:
            return cached.key
        key = _verifying_key(cached.x, cached.y)
        key.precompute()
        _precomputed[pub] = key
        if len(_precomputed) > _PRECOMPUTED_MAX:
            _precomputed.popitem(last=False)
        return key


def clear_key_caches() -> None:
    """Forget every parsed and precomputed public key (benchmarks measure cold keys this way)."""
    with _precomputed_lock:
        _precomputed.clear()
        _ecdsa_verifying_key.cache_clear()
    secp_backend.clear_cache()


def _sec_length(prefix: int) -> int:
    """Core's CPubKey::GetLen: the length a key with this first byte must have (0 = never)."""
    if prefix in (0x02, 0x03):
        return 33
    if prefix in (0x04, 0x06, 0x07):
        return 65
    return 0


def verify_rs_ecdsa(pub: bytes, r: int, s: int, digest32: bytes) -> bool:
    """Verify (r, s) over a 32-byte digest with the pure-Python `ecdsa` package."""
    key = _ecdsa_key_for(bytes(pub))
    if key is None or len(digest32) != 32:
        return False
    try:
        # Public_key.verifies reduces the digest mod n and rejects r, s outside [1, n-1].
        return bool(key.pubkey.verifies(int.from_bytes(digest32, "big"), Signature(r, s)))
    except Exception:  # noqa: BLE001 — any failure inside the math means "not valid"
        return False


_BACKENDS = {"ecdsa": verify_rs_ecdsa}
if secp_backend.AVAILABLE:
    _BACKENDS["coincurve"] = secp_backend.verify_rs
_backend = "coincurve" if secp_backend.AVAILABLE else "ecdsa"


def available_backends() -> list[str]:
    """Names of the verification backends importable here."""
    return sorted(_BACKENDS)


def get_backend() -> str:
    """The verification backend in use: "coincurve" (libsecp256k1) or "ecdsa"."""
    return _backend


def set_backend(name: str) -> str:
    """Choose the verification backend ("ecdsa", "coincurve" or "auto"); returns the previous one.

    Meant for benchmarks and tests; both backends give the same answers.
    """
    global _backend
    previous = _backend
    if name == "auto":
        name = "coincurve" if "coincurve" in _BACKENDS else "ecdsa"
    if name not in _BACKENDS:
        raise ValueError(f"verification backend {name!r} is not available: {available_backends()}")
    _backend = name
    return previous


def verify_signature(
    sec_pubkey: bytes, der_sig: bytes, digest32: bytes, *, backend: str | None = None
) -> bool:
    """Does `der_sig` sign `digest32` under `sec_pubkey`? Never raises.

    Consensus semantics of Bitcoin Core's `CPubKey::Verify`: the public key may be compressed,
    uncompressed or hybrid; the signature (without hash-type byte) is read with the lax DER
    parser and high-S is accepted. Encoding rules (DERSIG, LOW_S, STRICTENC) are the script
    interpreter's to apply. `backend` overrides the module-wide choice for this call.
    """
    verify_rs = _BACKENDS.get(backend or _backend)
    if verify_rs is None:  # a programming error, not an invalid signature
        raise ValueError(f"verification backend {backend!r} is not available")
    try:
        parsed = parse_der_lax(bytes(der_sig))
        if parsed is None or len(digest32) != 32:
            return False
        r, s = parsed
        if s > HALF_N:  # Core normalizes before libsecp256k1's low-S-only verify
            s = N - s
        return verify_rs(bytes(sec_pubkey), r, s, bytes(digest32))
    except Exception:  # noqa: BLE001 — "never raises" is the contract
        return False
