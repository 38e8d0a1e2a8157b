"""Bitcoin's byte encodings: little-endian integers, CompactSize varints, Base58(Check), hex.

Follows Bitcoin Core `serialize.h` (CompactSize, with its canonical-encoding rule) and
`base58.cpp`. Every integer helper lives here once; other modules import them.
"""

from __future__ import annotations

from .errors import ParseError
from .hashes import hash256

MAX_SIZE = 0x02000000  # Bitcoin Core's MAX_SIZE: the largest CompactSize a length may carry


def int_to_le(value: int, length: int) -> bytes:
    """Encode an unsigned integer as `length` little-endian bytes."""
    return value.to_bytes(length, "little")


def le_to_int(data: bytes) -> int:
    """Decode little-endian bytes as an unsigned integer."""
    return int.from_bytes(data, "little")


def encode_varint(n: int) -> bytes:
    """Encode `n` as a CompactSize: 1, 3, 5 or 9 bytes (prefix 0xfd, 0xfe, 0xff)."""
    if n < 0:
        raise ValueError("CompactSize cannot encode a negative number")
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    if n <= 0xFFFFFFFFFFFFFFFF:
        return b"\xff" + n.to_bytes(8, "little")
    raise ValueError("CompactSize cannot encode a number above 2**64 - 1")


class ByteReader:
    """A cursor over bytes that raises `ParseError` instead of reading past the end.

    Parsers take a `ByteReader` so that a structure embedded in another (a transaction in a
    block) is read in place, without copying.
    """

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = bytes(data)
        self.pos = pos

    def read(self, n: int) -> bytes:
        """Read exactly `n` bytes."""
        if n < 0 or self.pos + n > len(self.data):
            raise ParseError(
                f"unexpected end of data: wanted {n} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def read_int(self, n: int) -> int:
        """Read an `n`-byte little-endian unsigned integer."""
        return int.from_bytes(self.read(n), "little")

    def read_varint(self, *, limit: int = MAX_SIZE) -> int:
        """Read a canonical CompactSize no larger than `limit` (Bitcoin Core's ReadCompactSize)."""
        prefix = self.read(1)[0]
        if prefix < 0xFD:
            n = prefix
        elif prefix == 0xFD:
            n = self.read_int(2)
            if n < 0xFD:
                raise ParseError("non-canonical CompactSize")
        elif prefix == 0xFE:
            n = self.read_int(4)
            if n < 0x10000:
                raise ParseError("non-canonical CompactSize")
        else:
            n = self.read_int(8)
            if n < 0x100000000:
                raise ParseError("non-canonical CompactSize")
        if n > limit:
            raise ParseError(f"CompactSize {n} exceeds the limit {limit}")
        return n

    def read_count(self, min_item_size: int, what: str) -> int:
        """Read a CompactSize item count, refusing one the remaining bytes cannot hold.

        Each of the `n` items that follow takes at least `min_item_size` bytes, so a larger
        count is corrupt or hostile. Bitcoin Core allocates incrementally instead; refusing up
        front keeps a bad varint from promising millions of inputs or transactions.
        """
        n = self.read_varint()
        if n * min_item_size > self.remaining():
            raise ParseError(
                f"{what} count {n} is larger than the remaining {self.remaining()} bytes"
            )
        return n

    def read_var_bytes(self) -> bytes:
        """Read a CompactSize length followed by that many bytes."""
        return self.read(self.read_varint())

    def remaining(self) -> int:
        """How many bytes are left to read."""
        return len(self.data) - self.pos

    def at_end(self) -> bool:
        """True when every byte has been read."""
        return self.pos == len(self.data)

    def expect_end(self, what: str) -> None:
        """Raise `ParseError` if bytes are left over after parsing `what`."""
        if not self.at_end():
            raise ParseError(f"{self.remaining()} trailing bytes after {what}")


def hash_to_hex(h: bytes) -> str:
    """Show a 32-byte hash as Bitcoin shows txids and block hashes: byte-reversed hex."""
    return h[::-1].hex()


def hex_to_hash(s: str) -> bytes:
    """Inverse of `hash_to_hex`: a displayed txid or block hash back to internal byte order."""
    try:
        raw = bytes.fromhex(s)
    except (ValueError, TypeError) as exc:
        raise ParseError(f"not a hex hash: {s!r}") from exc
    if len(raw) != 32:
        raise ParseError(f"a hash is 32 bytes, got {len(raw)}")
    return raw[::-1]


def parse_hex(s: str) -> bytes:
    """Decode hex text, raising `ParseError` (not ValueError) on bad input."""
    try:
        return bytes.fromhex(s)
    except (ValueError, TypeError) as exc:
        raise ParseError(f"not valid hex: {str(s)[:40]!r}") from exc


# --- Base58 ---------------------------------------------------------------------------------

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58-encode bytes; each leading zero byte becomes a leading '1'."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str, max_len: int | None = None) -> bytes:
    """Decode Base58 text. Bitcoin Core tolerates surrounding whitespace; so do we.

    With `max_len`, text too long to hold at most that many bytes is refused before decoding,
    whose cost grows with the square of the length (Core's `DecodeBase58` has the same limit).
    """
    if not isinstance(text, str):
        raise ParseError("Base58 input must be text")
    s = text.strip(" \t\n\v\f\r")
    # A character carries log2(58) ~ 5.86 bits and a leading '1' one zero byte, so n bytes
    # never need more than 1.37 n + 1 characters.
    if max_len is not None and len(s) > max_len * 137 // 100 + 1:
        raise ParseError(f"Base58 text of {len(s)} characters is too long for {max_len} bytes")
    n = 0
    for c in s:
        try:
            n = n * 58 + _B58_INDEX[c]
        except KeyError:
            raise ParseError(f"invalid Base58 character {c!r}") from None
    zeros = len(s) - len(s.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def b58check_encode(payload: bytes) -> str:
    """Base58Check: payload followed by the first 4 bytes of its double SHA-256."""
    return b58encode(payload + hash256(payload)[:4])


def b58check_decode(text: str, max_len: int | None = None) -> bytes:
    """Decode Base58Check text and verify its 4-byte checksum; returns the payload.

    `max_len` bounds the payload's length as in `b58decode` (addresses carry 21 bytes, WIF keys
    33 or 34, extended keys 78).
    """
    raw = b58decode(text, None if max_len is None else max_len + 4)
    if len(raw) < 4:
        raise ParseError("Base58Check data is shorter than its checksum")
    payload, checksum = raw[:-4], raw[-4:]
    if hash256(payload)[:4] != checksum:
        raise ParseError("Base58Check checksum mismatch")
    return payload
