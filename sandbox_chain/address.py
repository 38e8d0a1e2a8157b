"""Base58Check addresses and WIF private keys, as Bitcoin Core's `key_io.cpp` encodes them.

* A P2PKH address is Base58Check(version byte || HASH160(public key)); it stands for the
  script `OP_DUP OP_HASH160 <hash160> OP_EQUALVERIFY OP_CHECKSIG`.
* WIF (Wallet Import Format) is Base58Check(version byte || 32-byte secret [|| 0x01]); the
  trailing 0x01 says "this key's public key is used in compressed form".

The sandbox uses the version bytes of Bitcoin's test networks (regtest, testnet, signet):
0x6f for P2PKH addresses (they start with `m` or `n`), 0xc4 for P2SH, 0xef for WIF. Mainnet's
bytes (0x00, 0x05, 0x80) are supported too, so that real mainnet addresses and keys can be
checked against published vectors.

P2SH addresses are recognised but refused by `decode_address`: the sandbox's script subset does
not implement BIP-16, so coins sent to a P2SH address could be spent without any signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .encoding import b58check_decode, b58check_encode
from .errors import ParseError
from .script import p2pkh_script


@dataclass(frozen=True)
class AddressPrefixes:
    """The version bytes that tell networks' Base58Check strings apart."""

    name: str
    pubkey_address_prefix: int  # 1 byte before a P2PKH public-key hash
    script_address_prefix: int  # 1 byte before a P2SH script hash
    wif_prefix: int  # 1 byte before a WIF private key


MAINNET_PREFIXES = AddressPrefixes("main", 0x00, 0x05, 0x80)
TESTNET_PREFIXES = AddressPrefixes("test", 0x6F, 0xC4, 0xEF)

# Bitcoin Core calls its chains main, test, testnet4, signet and regtest; all but main share
# one set of Base58 version bytes. "classroom" is the sandbox's retargeting network.
NETWORK_PREFIXES: dict[str, AddressPrefixes] = {
    "main": MAINNET_PREFIXES,
    "mainnet": MAINNET_PREFIXES,
    "test": TESTNET_PREFIXES,
    "testnet": TESTNET_PREFIXES,
    "testnet4": TESTNET_PREFIXES,
    "signet": TESTNET_PREFIXES,
    "regtest": TESTNET_PREFIXES,
    "classroom": TESTNET_PREFIXES,
}

DEFAULT_NETWORK = "regtest"


def _prefix_byte(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        if len(value) != 1:
            raise ValueError(f"a version prefix is one byte, got {len(value)}")
        return value[0]
    return int(value)


def network_prefixes(network: Any = DEFAULT_NETWORK) -> AddressPrefixes:
    """Version bytes of `network`: a name ("regtest", "main", ...) or a params object.

    A params object is anything with `pubkey_address_prefix`, `script_address_prefix` and
    `wif_prefix` attributes (ints or one-byte bytes), such as `params.NetworkParams`.
    """
    if isinstance(network, AddressPrefixes):
        return network
    if isinstance(network, str):
        try:
            return NETWORK_PREFIXES[network.lower()]
        except KeyError:
            known = ", ".join(sorted(NETWORK_PREFIXES))
            raise ValueError(f"unknown network {network!r} (known: {known})") from None
    try:
        return AddressPrefixes(
            str(getattr(network, "name", "custom")),
            _prefix_byte(network.pubkey_address_prefix),
            _prefix_byte(network.script_address_prefix),
            _prefix_byte(network.wif_prefix),
        )
    except AttributeError:
        raise ValueError(f"not a network name or parameter set: {network!r}") from None


# --- P2PKH addresses -------------------------------------------------------------------------


# The P2PKH locking script for a 20-byte public-key hash; script.py builds it, this is the name
# it had here.
p2pkh_script_pubkey = p2pkh_script


def address_from_pubkey_hash(h160: bytes, network: Any = DEFAULT_NETWORK) -> str:
    """The P2PKH address of a 20-byte HASH160 on `network` (default: the sandbox's regtest)."""
    if len(h160) != 20:
        raise ValueError(f"a public-key hash is 20 bytes, got {len(h160)}")
    version = network_prefixes(network).pubkey_address_prefix
    return b58check_encode(bytes([version]) + h160)


def decode_address_hash(address: str, network: Any = DEFAULT_NETWORK) -> bytes:
    """The 20-byte public-key hash inside a P2PKH address of `network`; ParseError otherwise."""
    prefixes = network_prefixes(network)
    payload = b58check_decode(address, max_len=21)
    if len(payload) != 21:
        raise ParseError(f"a Base58 address carries 21 bytes, this one {len(payload)}")
    version, body = payload[0], payload[1:]
    if version == prefixes.pubkey_address_prefix:
        return body
    if version == prefixes.script_address_prefix:
        raise ParseError("P2SH addresses are not supported: the sandbox has no BIP-16 scripts")
    raise ParseError(
        f"address version byte 0x{version:02x} does not belong to network {prefixes.name!r}"
    )


def decode_address(address: str, network: Any = DEFAULT_NETWORK) -> bytes:
    """Decode a P2PKH address of `network` into the scriptPubKey that pays to it.

    Raises `ParseError` for a bad checksum, a wrong length, another network's address, or an
    address type outside the sandbox's subset (P2SH, bech32 segwit addresses).
    """
    if not isinstance(address, str):
        raise ParseError("an address is text")
    return p2pkh_script(decode_address_hash(address, network))


# --- WIF ---------------------------------------------------------------------------------------


def encode_wif(secret: bytes, compressed: bool = True, network: Any = DEFAULT_NETWORK) -> str:
    """WIF text for a 32-byte secret; `compressed` appends the 0x01 marker byte."""
    if len(secret) != 32:
        raise ValueError(f"a private key is 32 bytes, got {len(secret)}")
    version = network_prefixes(network).wif_prefix
    return b58check_encode(bytes([version]) + secret + (b"\x01" if compressed else b""))


def decode_wif(text: str, network: Any = None) -> tuple[bytes, bool, AddressPrefixes]:
    """Decode WIF text into (32-byte secret, compressed flag, network prefixes).

    With `network=None` both mainnet (0x80) and test-network (0xef) keys are accepted; otherwise
    the version byte must be that network's. The secret's range is checked by `keys.PrivateKey`.
    """
    if not isinstance(text, str):
        raise ParseError("a WIF key is text")
    payload = b58check_decode(text, max_len=34)
    if len(payload) == 33:
        compressed = False
    elif len(payload) == 34 and payload[33] == 0x01:
        compressed = True
    else:
        raise ParseError("a WIF key carries 32 bytes, optionally followed by the byte 0x01")
    version = payload[0]
    if network is None:
        candidates = [MAINNET_PREFIXES, TESTNET_PREFIXES]
    else:
        candidates = [network_prefixes(network)]
    for prefixes in candidates:
        if version == prefixes.wif_prefix:
            return payload[1:33], compressed, prefixes
    raise ParseError(f"WIF version byte 0x{version:02x} does not belong to the network asked for")
