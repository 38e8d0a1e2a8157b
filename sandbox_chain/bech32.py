"""Bech32 and Bech32m strings, and the SegWit addresses written with them.

Specs: BIP-173 (bech32, SegWit version 0 addresses) and BIP-350 (bech32m, versions 1 to 16),
both in bitcoin/bips. A string is `hrp` + "1" + data characters from a 32-letter alphabet; its
last 6 characters are a BCH checksum over the expanded hrp and the data, which detects any
error in up to 4 characters. Bech32m differs only by the constant the checksum is XORed with
(BIP-350 changed it after a weakness of bech32 with inserted or deleted `q`s before a final `p`).

A SegWit address is: hrp ("bc" mainnet, "tb" testnet/signet, "bcrt" regtest), the witness
version as one data character, then the witness program (2 to 40 bytes; 20 or 32 for
version 0) converted from 8-bit bytes to 5-bit groups. Its scriptPubKey is
`OP_n <program>` (`OP_0` = 0x00, `OP_1`…`OP_16` = 0x51…0x60).

The sandbox chain does not validate SegWit spends; this module lets learners read and write
the addresses modern wallets hand out.
"""

from __future__ import annotations

from enum import Enum

from .errors import ParseError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 90  # BIP-173: a bech32 string is at most 90 characters

SEGWIT_HRPS = {"main": "bc", "test": "tb", "signet": "tb", "regtest": "bcrt"}


class Encoding(Enum):
    """Which checksum constant a string uses."""

    BECH32 = 1  # BIP-173
    BECH32M = 0x2BC830A3  # BIP-350


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, g in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= g
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(hrp: str, data: list[int], encoding: Encoding) -> list[int]:
    polymod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ encoding.value
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def bech32_encode(hrp: str, data: list[int], encoding: Encoding = Encoding.BECH32) -> str:
    """Encode 5-bit values under a human-readable part; the result is lowercase."""
    if not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ParseError("bech32: the human-readable part must be 1+ characters in 33..126")
    if any(not 0 <= v < 32 for v in data):
        raise ParseError("bech32: data values are 5-bit numbers (0..31)")
    hrp = hrp.lower()
    text = hrp + "1" + "".join(CHARSET[v] for v in data + _checksum(hrp, data, encoding))
    if len(text) > MAX_LENGTH:
        raise ParseError(f"bech32: {len(text)} characters, more than {MAX_LENGTH}")
    return text


def bech32_decode(text: str) -> tuple[str, list[int], Encoding]:
    """Decode a bech32 or bech32m string into (hrp, data without checksum, encoding).

    Raises ParseError naming the first problem: a character outside 33..126, mixed case, no
    separator, a length over 90, an empty hrp, a character outside the alphabet, a bad checksum.
    """
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise ParseError("bech32: character out of range (33..126)")
    if text.lower() != text and text.upper() != text:
        raise ParseError("bech32: mixed upper and lower case")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"bech32: {len(text)} characters, more than {MAX_LENGTH}")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 0:
        raise ParseError("bech32: no separator character '1'")
    if sep == 0:
        raise ParseError("bech32: empty human-readable part")
    if len(text) - sep - 1 < 6:
        raise ParseError("bech32: checksum too short (fewer than 6 characters after '1')")
    hrp, rest = text[:sep], text[sep + 1 :]
    bad = [c for c in rest if c not in _CHARSET_INDEX]
    if bad:
        raise ParseError(f"bech32: invalid data character {bad[0]!r}")
    data = [_CHARSET_INDEX[c] for c in rest]
    constant = _polymod(_hrp_expand(hrp) + data)
    for encoding in Encoding:
        if constant == encoding.value:
            return hrp, data[:-6], encoding
    raise ParseError("bech32: invalid checksum")


def convert_bits(data: list[int] | bytes, from_bits: int, to_bits: int, pad: bool) -> list[int]:
    """Regroup a sequence of `from_bits`-bit numbers into `to_bits`-bit numbers (BIP-173).

    With `pad`, the last group is completed with zero bits; without it, leftover bits must be
    fewer than `from_bits` and all zero (a strict decoder refuses anything else).
    """
    acc = bits = 0
    out = []
    top = (1 << to_bits) - 1
    for value in data:
        if not 0 <= value < 1 << from_bits:
            raise ParseError(f"bech32: value {value} does not fit in {from_bits} bits")
        acc = acc << from_bits | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append(acc >> bits & top)
    if pad:
        if bits:
            out.append(acc << (to_bits - bits) & top)
    elif bits >= from_bits or acc << (to_bits - bits) & top:
        raise ParseError("bech32: invalid padding in the data part")
    return out


def encode_segwit_address(hrp: str, version: int, program: bytes) -> str:
    """The address of a witness program: bech32 for version 0, bech32m for 1..16."""
    _check_program(version, program)
    encoding = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    return bech32_encode(hrp, [version, *convert_bits(program, 8, 5, True)], encoding)


def decode_segwit_address(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program) of a SegWit address for `hrp`; ParseError if it is not one."""
    got_hrp, data, encoding = bech32_decode(address)
    if got_hrp != hrp:
        raise ParseError(f"segwit address: human-readable part {got_hrp!r}, expected {hrp!r}")
    if not data:
        raise ParseError("segwit address: no witness version")
    version = data[0]
    if version > 16:
        raise ParseError(f"segwit address: invalid witness version {version}")
    want = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    if encoding is not want:
        raise ParseError(
            f"segwit address: version {version} must use {want.name.lower()}, "
            f"not {encoding.name.lower()} (BIP-350)"
        )
    program = bytes(convert_bits(data[1:], 5, 8, False))
    _check_program(version, program)
    return version, program


def segwit_script_pubkey(version: int, program: bytes) -> bytes:
    """`OP_n <program>`: the output script a SegWit address stands for."""
    _check_program(version, program)
    return bytes([0x50 + version if version else 0, len(program)]) + program


def _check_program(version: int, program: bytes) -> None:
    if not 0 <= version <= 16:
        raise ParseError(f"segwit address: invalid witness version {version}")
    if not 2 <= len(program) <= 40:
        raise ParseError(f"segwit address: invalid program length {len(program)} (2..40 bytes)")
    if version == 0 and len(program) not in (20, 32):
        raise ParseError(
            f"segwit address: a version 0 program is 20 or 32 bytes, not {len(program)}"
        )
