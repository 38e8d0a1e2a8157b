"""ECDSA signature encodings as Bitcoin uses them: DER, its strict and lax readings, low-S.

Specs followed:

* DER (ITU-T X.690) for a signature (r, s): SEQUENCE { INTEGER r, INTEGER s }.
* BIP-66 strict DER, exactly as Bitcoin Core's `IsValidSignatureEncoding`
  (script/interpreter.cpp).
* Bitcoin Core's lax reading, `ecdsa_signature_parse_der_lax` (pubkey.cpp), which consensus uses
  because blocks from before BIP-66 contain signatures that are not valid DER.
* BIP-62/BIP-146's low-S rule (Core's `CPubKey::CheckLowS`).

These are rules about bytes only: no curve arithmetic happens here. `keys` signs and verifies,
and re-exports every name of this module, so `from sandbox_chain.keys import is_strict_der`
keeps working.
"""

from __future__ import annotations

from .errors import ParseError

# The order n of secp256k1's group: r and s are numbers modulo n (SEC 2, section 2.4.1).
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N >> 1  # a signature's s is "low" when s <= HALF_N


def _der_int(value: int) -> bytes:
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:  # DER integers are signed: keep positive numbers positive
        body = b"\x00" + body
    return b"\x02" + bytes([len(body)]) + body


def encode_der(r: int, s: int) -> bytes:
    """DER-encode a signature (r, s): SEQUENCE { INTEGER r, INTEGER s }, 8 to 72 bytes.

    Values of n or more are encoded too (tests need such signatures); they never verify.
    """
    if r < 0 or s < 0:
        raise ValueError("r and s are non-negative")
    body = _der_int(r) + _der_int(s)
    if len(body) > 0x7F:
        raise ValueError("r and s are too large for a signature")
    return b"\x30" + bytes([len(body)]) + body


def is_strict_der(sig: bytes) -> bool:
    """BIP-66: is `sig` (DER signature **followed by its sighash-type byte**) strict DER?

    A line-by-line transcription of Bitcoin Core's `IsValidSignatureEncoding`. The input is the
    signature as it is pushed in a scriptSig, hash-type byte included, as Core checks it.
    """
    size = len(sig)
    # Minimum and maximum size: 0x30 len 0x02 lenR R 0x02 lenS S hashtype.
    if size < 9 or size > 73:
        return False
    if sig[0] != 0x30:  # a compound structure
        return False
    if sig[1] != size - 3:  # its length covers everything but the hash type
        return False
    len_r = sig[3]
    if 5 + len_r >= size:  # S's length byte must fit inside the signature
        return False
    len_s = sig[5 + len_r]
    if len_r + len_s + 7 != size:  # lengths add up to the whole signature
        return False
    if sig[2] != 0x02 or len_r == 0:  # R is a non-empty INTEGER
        return False
    if sig[4] & 0x80:  # ... not negative
        return False
    if len_r > 1 and sig[4] == 0x00 and not sig[5] & 0x80:  # ... without needless zero padding
        return False
    if sig[len_r + 4] != 0x02 or len_s == 0:  # same rules for S
        return False
    if sig[len_r + 6] & 0x80:
        return False
    if len_s > 1 and sig[len_r + 6] == 0x00 and not sig[len_r + 7] & 0x80:
        return False
    return True


def decode_der(der: bytes) -> tuple[int, int]:
    """Decode a strict-DER signature (no hash-type byte) into (r, s); ParseError otherwise."""
    der = bytes(der)
    if not is_strict_der(der + b"\x01"):
        raise ParseError("not a strict DER signature (BIP-66)")
    len_r = der[3]
    r = int.from_bytes(der[4 : 4 + len_r], "big")
    s = int.from_bytes(der[6 + len_r :], "big")
    return r, s


def parse_der_lax(sig: bytes) -> tuple[int, int] | None:
    """Read (r, s) as Bitcoin Core's `ecdsa_signature_parse_der_lax` does; None if unreadable.

    Old (pre-BIP-66) blocks contain signatures that are not valid DER, so consensus accepts
    this lax BER-like reading: the sequence length is skipped, long-form lengths are allowed,
    leading zero bytes are ignored and trailing bytes after S are not checked. A value of r or
    s that does not fit below the group order gives (0, 0), a signature that never verifies.
    """
    n = len(sig)
    pos = 0
    if pos == n or sig[pos] != 0x30:
        return None
    pos += 1
    if pos == n:
        return None
    lenbyte = sig[pos]
    pos += 1
    if lenbyte & 0x80:  # long-form sequence length: skipped, its value is not checked
        lenbyte -= 0x80
        if lenbyte > n - pos:
            return None
        pos += lenbyte
    spans = []
    for _ in range(2):  # INTEGER r, then INTEGER s
        if pos == n or sig[pos] != 0x02:
            return None
        pos += 1
        if pos == n:
            return None
        lenbyte = sig[pos]
        pos += 1
        if lenbyte & 0x80:
            lenbyte -= 0x80
            if lenbyte > n - pos:
                return None
            while lenbyte > 0 and sig[pos] == 0:
                pos += 1
                lenbyte -= 1
            if lenbyte >= 4:
                return None
            length = int.from_bytes(sig[pos : pos + lenbyte], "big")
            pos += lenbyte
        else:
            length = lenbyte
        if length > n - pos:
            return None
        spans.append(sig[pos : pos + length])
        pos += length
    values = []
    for span in spans:
        stripped = span.lstrip(b"\x00")
        if len(stripped) > 32:
            return 0, 0
        values.append(int.from_bytes(stripped, "big"))
    r, s = values
    if r >= N or s >= N:  # libsecp256k1's parse_compact overflow: Core zeroes the signature
        return 0, 0
    return r, s


def is_low_s(der_sig: bytes) -> bool:
    """Is s <= n/2 (BIP-62/146 LOW_S)? `der_sig` has no hash-type byte.

    Mirrors Core's `CPubKey::CheckLowS`: an unparseable signature is not low-S; one whose r or
    s overflows reads as (0, 0), which is.
    """
    parsed = parse_der_lax(bytes(der_sig))
    return parsed is not None and parsed[1] <= HALF_N
