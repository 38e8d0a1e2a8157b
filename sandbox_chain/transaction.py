"""Bitcoin transactions: outpoints, inputs, outputs, and their serialization.

Follows Bitcoin Core `primitives/transaction.h` (`COutPoint`, `CTxIn`, `CTxOut`,
`CTransaction`, `SerializeTransaction`/`UnserializeTransaction`). The legacy layout is::

    version   int32 LE
    vin       CompactSize count, then each input
    vout      CompactSize count, then each output
    locktime  uint32 LE

Transactions written in the BIP-144 (segwit) layout — a `00` marker and `01` flag after the
version, and one witness stack per input before the locktime — are parsed too, so real Bitcoin
data reads, and re-serialize to the same bytes. Their witness is kept but never validated: the
sandbox chain validates the legacy subset only. The txid is always the double SHA-256 of the
legacy serialization (without witness), byte-reversed for display.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .encoding import ByteReader, encode_varint, hash_to_hex, parse_hex
from .errors import ParseError
from .hashes import hash256

NULL_TXID = b"\0" * 32
NULL_INDEX = 0xFFFFFFFF
SEQUENCE_FINAL = 0xFFFFFFFF

# Smallest possible encodings, for `ByteReader.read_count`: an input is an outpoint, an empty
# script and a sequence; an output a value and an empty script.
_MIN_TXIN_SIZE = 32 + 4 + 1 + 4
_MIN_TXOUT_SIZE = 8 + 1


@dataclass
class OutPoint:
    """A reference to one output of an earlier transaction."""

    txid: bytes  # 32 bytes, internal byte order (reverse of the displayed hex)
    vout: int  # 4 bytes little endian, unsigned: index into that transaction's outputs

    def is_null(self) -> bool:
        """True for the null outpoint (zero txid, index 0xffffffff) that coinbase inputs carry."""
        return self.txid == NULL_TXID and self.vout == NULL_INDEX

    @classmethod
    def read(cls, reader: ByteReader) -> OutPoint:
        """Read 36 bytes: txid then output index."""
        return cls(reader.read(32), reader.read_int(4))

    def serialize(self) -> bytes:
        """The 36-byte encoding."""
        return self.txid + self.vout.to_bytes(4, "little")

    def __str__(self) -> str:
        return f"{hash_to_hex(self.txid)}:{self.vout}"


@dataclass
class TxIn:
    """A transaction input: what it spends and the script that unlocks it."""

    prevout: OutPoint  # 36 bytes
    script_sig: bytes  # CompactSize length + bytes
    sequence: int = SEQUENCE_FINAL  # 4 bytes little endian, unsigned
    # BIP-144 witness stack (segwit layout only); not part of the legacy serialization or txid.
    witness: list[bytes] = field(default_factory=list)

    @classmethod
    def read(cls, reader: ByteReader) -> TxIn:
        """Read one input in the legacy layout (the witness comes separately)."""
        prevout = OutPoint.read(reader)
        script_sig = reader.read_var_bytes()
        sequence = reader.read_int(4)
        return cls(prevout, script_sig, sequence)

    def serialize(self) -> bytes:
        """The legacy encoding of this input."""
        return (
            self.prevout.serialize()
            + encode_varint(len(self.script_sig))
            + self.script_sig
            + self.sequence.to_bytes(4, "little")
        )


@dataclass
class TxOut:
    """A transaction output: an amount and the script that locks it."""

    value: int  # 8 bytes little endian, signed int64 satoshis (Core's CAmount)
    script_pubkey: bytes  # CompactSize length + bytes

    @classmethod
    def read(cls, reader: ByteReader) -> TxOut:
        """Read one output. Negative or huge values parse; validation rejects them."""
        value = int.from_bytes(reader.read(8), "little", signed=True)
        return cls(value, reader.read_var_bytes())

    def serialize(self) -> bytes:
        """The encoding of this output."""
        return (
            self.value.to_bytes(8, "little", signed=True)
            + encode_varint(len(self.script_pubkey))
            + self.script_pubkey
        )


@dataclass
class Transaction:
    """A Bitcoin transaction (legacy layout; segwit layout parsed, witness kept)."""

    version: int  # 4 bytes little endian, signed int32
    vin: list[TxIn]  # CompactSize count + inputs
    vout: list[TxOut]  # CompactSize count + outputs
    locktime: int  # 4 bytes little endian, unsigned

    # --- parsing -------------------------------------------------------------------------

    @classmethod
    def read(cls, reader: ByteReader) -> Transaction:
        """Read one transaction in place, e.g. from inside a block.

        Mirrors Core's `UnserializeTransaction`: an empty input list followed by a non-zero
        byte is the segwit marker; flag bit 1 means witness stacks follow the outputs.
        """
        # Nearly every transaction is legacy with one-byte counts and lengths: read those
        # straight from the bytes. Anything else, or any problem, goes the careful way below
        # from the same position, so errors are always reported by `read_careful`.
        fast = _read_legacy_fast(reader.data, reader.pos)
        if fast is not None:
            tx, reader.pos = fast
            return tx
        return cls.read_careful(reader)

    @classmethod
    def read_careful(cls, reader: ByteReader) -> Transaction:
        """`read`, one field at a time through `ByteReader`, for every layout."""
        version = int.from_bytes(reader.read(4), "little", signed=True)
        vin = [TxIn.read(reader) for _ in range(reader.read_count(_MIN_TXIN_SIZE, "input"))]
        vout: list[TxOut] = []
        flags = 0
        if not vin:
            # Either a segwit marker (00) then its flag byte, or a transaction with no inputs.
            flags = reader.read(1)[0]
            if flags != 0:
                n_in = reader.read_count(_MIN_TXIN_SIZE, "input")
                vin = [TxIn.read(reader) for _ in range(n_in)]
                n_out = reader.read_count(_MIN_TXOUT_SIZE, "output")
                vout = [TxOut.read(reader) for _ in range(n_out)]
        else:
            n_out = reader.read_count(_MIN_TXOUT_SIZE, "output")
            vout = [TxOut.read(reader) for _ in range(n_out)]
        if flags & 1:
            flags ^= 1
            for txin in vin:
                n_items = reader.read_count(1, "witness item")
                txin.witness = [reader.read_var_bytes() for _ in range(n_items)]
            if not any(txin.witness for txin in vin):
                raise ParseError("superfluous witness record")
        if flags:
            raise ParseError("unknown transaction optional data")
        locktime = reader.read_int(4)
        return cls(version, vin, vout, locktime)

    @classmethod
    def parse(cls, data: bytes) -> Transaction:
        """Parse exactly one transaction; trailing bytes are an error."""
        reader = ByteReader(data)
        tx = cls.read(reader)
        reader.expect_end("transaction")
        return tx

    @classmethod
    def from_hex(cls, text: str) -> Transaction:
        """Parse a transaction from hex text (as `getrawtransaction` shows it)."""
        return cls.parse(parse_hex(text))

    # --- serialization -------------------------------------------------------------------

    def has_witness(self) -> bool:
        """True if any input carries a witness stack (segwit layout)."""
        return any(txin.witness for txin in self.vin)

    def serialize_legacy(self) -> bytes:
        """The legacy serialization, without witness: what the txid commits to."""
        # TxIn.serialize and TxOut.serialize inlined: this runs for every transaction of
        # every block validated.
        parts = [self.version.to_bytes(4, "little", signed=True), encode_varint(len(self.vin))]
        for txin in self.vin:
            script = txin.script_sig
            parts += (
                txin.prevout.txid,
                txin.prevout.vout.to_bytes(4, "little"),
                encode_varint(len(script)),
                script,
                txin.sequence.to_bytes(4, "little"),
            )
        parts.append(encode_varint(len(self.vout)))
        for txout in self.vout:
            script = txout.script_pubkey
            parts += (
                txout.value.to_bytes(8, "little", signed=True),
                encode_varint(len(script)),
                script,
            )
        parts.append(self.locktime.to_bytes(4, "little"))
        return b"".join(parts)

    def serialize(self) -> bytes:
        """The full serialization: legacy, or the segwit layout when a witness is present."""
        if not self.has_witness():
            return self.serialize_legacy()
        parts = [self.version.to_bytes(4, "little", signed=True), b"\x00\x01"]
        parts.append(encode_varint(len(self.vin)))
        parts += [txin.serialize() for txin in self.vin]
        parts.append(encode_varint(len(self.vout)))
        parts += [txout.serialize() for txout in self.vout]
        for txin in self.vin:
            parts.append(encode_varint(len(txin.witness)))
            parts += [encode_varint(len(item)) + item for item in txin.witness]
        parts.append(self.locktime.to_bytes(4, "little"))
        return b"".join(parts)

    def hex(self) -> str:
        """The full serialization as hex text."""
        return self.serialize().hex()

    # --- identity and simple properties --------------------------------------------------

    def txid(self) -> bytes:
        """Double SHA-256 of the legacy serialization (internal byte order)."""
        return hash256(self.serialize_legacy())

    @property
    def txid_hex(self) -> str:
        """The txid as Bitcoin shows it (byte-reversed hex)."""
        return hash_to_hex(self.txid())

    def wtxid(self) -> bytes:
        """Double SHA-256 of the full serialization (equals the txid without witness)."""
        return hash256(self.serialize())

    def is_coinbase(self) -> bool:
        """A coinbase has exactly one input, and it spends the null outpoint."""
        return len(self.vin) == 1 and self.vin[0].prevout.is_null()

    def total_out(self) -> int:
        """Sum of the output values in satoshis (unchecked: validation bounds it)."""
        return sum(txout.value for txout in self.vout)

    def size(self) -> int:
        """Size in bytes of the full serialization."""
        return len(self.serialize())


_INT32 = struct.Struct("<i").unpack_from
_UINT32 = struct.Struct("<I").unpack_from
_INT64 = struct.Struct("<q").unpack_from


def _read_legacy_fast(data: bytes, pos: int) -> tuple[Transaction, int] | None:
    """A legacy transaction whose counts and script lengths are all below 0xfd, read from
    `data` at `pos`: (transaction, end position), or None to let `read_careful` decide.

    The same fields as `read_careful`, in the same order; a one-byte CompactSize is always
    canonical, and counts that the remaining bytes could not hold fail the bounds checks.
    """
    end = len(data)
    try:
        version = _INT32(data, pos)[0]
        n_in = data[pos + 4]
        pos += 5
        if n_in == 0 or n_in >= 0xFD:
            return None
        vin = []
        for _ in range(n_in):
            n = data[pos + 36] if pos + 37 <= end else 0xFD
            if n >= 0xFD or pos + 41 + n > end:
                return None
            start = pos + 37
            vin.append(
                TxIn(
                    OutPoint(data[pos : pos + 32], _UINT32(data, pos + 32)[0]),
                    data[start : start + n],
                    _UINT32(data, start + n)[0],
                )
            )
            pos = start + n + 4
        n_out = data[pos]
        pos += 1
        if n_out >= 0xFD:
            return None
        vout = []
        for _ in range(n_out):
            n = data[pos + 8] if pos + 9 <= end else 0xFD
            if n >= 0xFD or pos + 9 + n > end:
                return None
            vout.append(TxOut(_INT64(data, pos)[0], data[pos + 9 : pos + 9 + n]))
            pos += 9 + n
        locktime = _UINT32(data, pos)[0]
    except (IndexError, struct.error):
        return None
    return Transaction(version, vin, vout, locktime), pos + 4
