"""Output script descriptors, the legacy subset the sandbox's scripts need (BIP-380, 381, 383).

Follows Bitcoin Core's `script/descriptor.cpp`: `addr(ADDRESS)`, `raw(HEX)`, `pk(KEY)` and
`multi(m,KEY,...)` with keys as hex public keys, each optionally followed by `#` and the
8-character checksum of BIP-380. `infer_descriptor` is Core's `InferDescriptor` without a
signing provider (what `decoderawtransaction`, `gettxout` and `scantxoutset` show): P2PKH is
`addr(...)` because the public key behind a hash is unknown, P2PK is `pk(...)`, bare multisig
is `multi(...)`, anything else `raw(...)`; the result always carries its checksum.
"""

from __future__ import annotations

import re

from ..address import address_from_pubkey_hash, decode_address
from ..errors import ChainError
from ..params import NetworkParams
from ..script import classify, multisig_script, p2pk_script

# BIP-380: the characters a descriptor may use, in the order that gives each its value, and
# the 32 characters the checksum is written with.
_INPUT_CHARSET = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    'ijklmnopqrstuvwxyzABCDEFGH`#"\\ '
)
_CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0xF5DEE51989, 0xA9FDCA3312, 0x1BAB10E32D, 0x3706B1677A, 0x644D626FFD)
_FORM = re.compile(r"^(addr|raw|pk|multi)\(([^()]*)\)$")
_HEX_KEY = re.compile(r"^(02|03)[0-9a-fA-F]{64}$|^04[0-9a-fA-F]{128}$")


class DescriptorError(ChainError):
    """A descriptor that does not parse, has a wrong checksum, or is outside the subset."""


def _polymod(symbols: list[int]) -> int:
    # The BCH code of BIP-380: a degree-8 generator over GF(32), like bech32's with 40 bits.
    chk = 1
    for value in symbols:
        top = chk >> 35
        chk = ((chk & 0x7FFFFFFFF) << 5) ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def descriptor_checksum(desc: str) -> str:
    """The 8-character BIP-380 checksum of `desc` (without any `#...` part)."""
    symbols: list[int] = []
    groups: list[int] = []
    for ch in desc:
        pos = _INPUT_CHARSET.find(ch)
        if pos < 0:
            raise DescriptorError("Invalid characters in payload")  # Core's message
        symbols.append(pos & 31)  # the low 5 bits of each character, one symbol each
        groups.append(pos >> 5)  # the high bits, three characters to a symbol
        if len(groups) == 3:
            symbols.append(groups[0] * 9 + groups[1] * 3 + groups[2])
            groups = []
    if len(groups) == 1:
        symbols.append(groups[0])
    elif len(groups) == 2:
        symbols.append(groups[0] * 3 + groups[1])
    chk = _polymod(symbols + [0] * 8) ^ 1
    return "".join(_CHECKSUM_CHARSET[(chk >> (5 * (7 - i))) & 31] for i in range(8))


def with_checksum(desc: str) -> str:
    """`desc#checksum`, as Core's `Descriptor::ToString` writes every descriptor."""
    return f"{desc}#{descriptor_checksum(desc)}"


def infer_descriptor(script: bytes, params: NetworkParams) -> str:
    """Core's `InferDescriptor(script, no provider)->ToString()`, checksum included."""
    kind, details = classify(script)
    if kind == "p2pkh":
        body = f"addr({address_from_pubkey_hash(details, params)})"
    elif kind == "p2pk" and details[0] in (2, 3, 4):
        body = f"pk({details.hex()})"
    elif kind == "multisig" and all(k[0] in (2, 3, 4) for k in details[1]):
        m, keys = details
        body = f"multi({m},{','.join(k.hex() for k in keys)})"
    else:  # hybrid keys (06/07) have no descriptor form either: Core falls back to raw()
        body = f"raw({script.hex()})"
    return with_checksum(body)


def descriptor_script(desc: str, params: NetworkParams) -> bytes:
    """The scriptPubKey of a descriptor of the subset; `DescriptorError` otherwise.

    A checksum, when given, must match (Core's `CheckChecksum`, with its messages).
    """
    body, sep, given = desc.partition("#")
    if sep:
        if len(given) != 8:
            raise DescriptorError(f"Expected 8 character checksum, not {len(given)} characters")
        computed = descriptor_checksum(body)
        if given != computed:
            raise DescriptorError(
                f"Provided checksum '{given}' does not match computed checksum '{computed}'"
            )
    m = _FORM.match(body)
    if m is None:
        raise DescriptorError(
            f"'{desc}' is not a supported descriptor: use addr(), raw(), pk() or multi()"
        )
    kind, arg = m.groups()
    try:
        if kind == "addr":
            return decode_address(arg, params)
        if kind == "raw":
            return bytes.fromhex(arg)
        if kind == "pk":
            return p2pk_script(_key(arg))
        threshold, *keys = arg.split(",")
        if not threshold.isdigit() or not 1 <= int(threshold) <= len(keys) <= 16:
            raise DescriptorError(f"Multisig threshold '{threshold}' is not valid")
        return multisig_script(int(threshold), [_key(k) for k in keys])
    except (ChainError, ValueError) as exc:
        if isinstance(exc, DescriptorError):
            raise
        raise DescriptorError(f"Invalid descriptor '{desc}': {exc}") from None


def _key(text: str) -> bytes:
    if not _HEX_KEY.match(text):
        raise DescriptorError(f"key '{text}' is not a hex public key")
    return bytes.fromhex(text)
