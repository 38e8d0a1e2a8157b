"""Multibase base58btc (`z…`) and Multikey encodings of Ed25519 public keys.

Multibase (draft-multiformats-multibase): a one-character prefix names the base; `z` is base58btc
with Bitcoin's alphabet. Multikey (W3C Controlled Identifiers 1.0): an Ed25519 public key is the
multicodec header `0xed 0x01` followed by the 32 key bytes, base58btc-encoded — `z6Mk…`.
"""

from __future__ import annotations

from sandbox_chain.encoding import b58decode, b58encode
from sandbox_chain.errors import ParseError

from .errors import ProofError

ED25519_PUB_HEADER = b"\xed\x01"
MAX_DECODED = 1 << 20  # no proof value or key we read is anywhere near a megabyte


def encode_base58btc(data: bytes) -> str:
    """`z` + base58btc(data)."""
    return "z" + b58encode(data)


def decode_base58btc(text: object, what: str = "value") -> bytes:
    """Bytes of a `z…` multibase string; `ProofError` naming `what` otherwise."""
    if not isinstance(text, str) or not text.startswith("z") or len(text) < 2:
        raise ProofError(f"{what} is not multibase base58btc (a 'z' followed by base58)")
    try:
        return b58decode(text[1:], MAX_DECODED)
    except ParseError as exc:
        raise ProofError(f"{what} is not multibase base58btc: {exc}") from None


def ed25519_multikey(public_key: bytes) -> str:
    """The Multikey `publicKeyMultibase` of a 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ProofError("an Ed25519 public key is 32 bytes")
    return encode_base58btc(ED25519_PUB_HEADER + public_key)


def ed25519_from_multikey(text: object) -> bytes:
    """The 32 key bytes of an Ed25519 Multikey (`z6Mk…`)."""
    raw = decode_base58btc(text, "publicKeyMultibase")
    if len(raw) != 34 or raw[:2] != ED25519_PUB_HEADER:
        raise ProofError("publicKeyMultibase is not an Ed25519 Multikey (header 0xed01, 32 bytes)")
    return raw[2:]
