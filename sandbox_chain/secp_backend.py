"""Fast ECDSA verification through libsecp256k1 (Bitcoin Core's own library), via `coincurve`.

libsecp256k1 verifies about fifty times faster than the pure-Python `ecdsa` package. It is an
optional accelerator: `keys.verify_signature` uses it when `coincurve` imports, and gives the
same answers either way. Two differences between the libraries are absorbed before the math:

* signature parsing: both backends receive (r, s) from `signature.parse_der_lax`, Bitcoin Core's
  lax DER reader, so neither library's own DER parser is involved;
* high S: `secp256k1_ecdsa_verify` rejects s > n/2, `ecdsa` accepts it; callers pass s
  already normalized to the low half, as Core's `CPubKey::Verify` does.

Public keys, on the other hand, are parsed here by libsecp256k1 itself
(`secp256k1_ec_pubkey_parse`), independently of `keys`' Python parser: the differential test
(tests/chain/test_secp_backend.py) checks that the two parsers agree.
"""

from __future__ import annotations

import functools

from .signature import N

try:
    from coincurve import PublicKey as _CCPublicKey
    from coincurve._libsecp256k1 import ffi as _ffi
    from coincurve._libsecp256k1 import lib as _lib
    from coincurve.context import GLOBAL_CONTEXT as _CONTEXT
except ImportError:  # pragma: no cover — exercised only where coincurve is not installed
    AVAILABLE = False
else:
    AVAILABLE = True


@functools.lru_cache(maxsize=4096)
def _parsed_pubkey(pub: bytes):  # -> coincurve.PublicKey | None
    """libsecp256k1's parse of a public key (compressed, uncompressed or hybrid), cached."""
    try:
        return _CCPublicKey(pub)
    except (ValueError, TypeError):
        return None


def clear_cache() -> None:
    """Forget the parsed public keys."""
    _parsed_pubkey.cache_clear()


def verify_rs(pub: bytes, r: int, s: int, digest32: bytes) -> bool:
    """Verify (r, s) over a 32-byte digest with libsecp256k1. Never raises.

    `s` must already be in the low half (s <= n/2): libsecp256k1 refuses high-S signatures.
    """
    if not AVAILABLE or len(digest32) != 32:
        return False
    if not (0 < r < N and 0 < s < N):
        return False
    key = _parsed_pubkey(bytes(pub))
    if key is None:
        return False
    sig = _ffi.new("secp256k1_ecdsa_signature *")
    compact = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if not _lib.secp256k1_ecdsa_signature_parse_compact(_CONTEXT.ctx, sig, compact):
        return False
    return bool(_lib.secp256k1_ecdsa_verify(_CONTEXT.ctx, sig, bytes(digest32), key.public_key))
