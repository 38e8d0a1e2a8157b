"""BIP-32 hierarchical deterministic (HD) keys: one seed, a tree of key pairs.

Spec: BIP-32 (bitcoin/bips, bip-0032.mediawiki), including the validity rules of its test
vector 5 for parsing extended keys.

* Master key: HMAC-SHA512(key="Bitcoin seed", data=seed); the left 32 bytes are the secret, the
  right 32 bytes the chain code.
* Child derivation (CKD): HMAC-SHA512(chain code, data || index). Normal children (index < 2^31)
  use the parent's *public* key as data, so an extended public key (xpub) can derive its children's
  public keys without any secret. Hardened children (index >= 2^31, written 0' or 0H) use the
  parent's *secret*, which cuts that link: a leaked child secret plus the parent xpub cannot
  reveal the parent secret.
* Serialization: 78 bytes in Base58Check, with version bytes xprv/xpub (mainnet) or tprv/tpub
  (test networks, the sandbox's default).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import Any

from ecdsa import SECP256k1
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from .address import MAINNET_PREFIXES, network_prefixes
from .encoding import b58check_decode, b58check_encode
from .errors import ChainError, ParseError
from .hashes import hash160
from .keys import N, PrivateKey, PublicKey

HARDENED = 0x80000000  # indices from 2^31 up are hardened

# Version bytes of serialized extended keys: (private, public).
MAINNET_VERSIONS = (0x0488ADE4, 0x0488B21E)  # xprv, xpub
TESTNET_VERSIONS = (0x04358394, 0x043587CF)  # tprv, tpub
_VERSIONS = {
    MAINNET_VERSIONS[0]: ("main", True),
    MAINNET_VERSIONS[1]: ("main", False),
    TESTNET_VERSIONS[0]: ("test", True),
    TESTNET_VERSIONS[1]: ("test", False),
}


class DerivationError(ChainError):
    """A child key cannot be derived (hardened child of a public key, out-of-range index, or
    the astronomically rare invalid child for which BIP-32 says to skip to the next index)."""


def _versions(network: Any) -> tuple[int, int]:
    prefixes = network_prefixes(network)  # compare version bytes: names differ ("main"/"mainnet")
    is_main = prefixes.wif_prefix == MAINNET_PREFIXES.wif_prefix
    return MAINNET_VERSIONS if is_main else TESTNET_VERSIONS


@dataclass(frozen=True)
class ExtendedKey:
    """An extended private or public key: a key plus the chain code that derives its children.

    Serialized layout (78 bytes): version (4) || depth (1) || parent fingerprint (4) ||
    child number (4, big endian) || chain code (32) || key data (33: 0x00 || secret, or SEC
    compressed public key).
    """

    version: int  # 4 bytes: xprv/xpub/tprv/tpub
    depth: int  # 1 byte: 0 for the master key
    parent_fingerprint: bytes  # 4 bytes: first bytes of HASH160(parent public key)
    child_number: int  # 4 bytes: this key's index under its parent (>= 2^31: hardened)
    chain_code: bytes  # 32 bytes
    private_key: PrivateKey | None  # set for an extended private key
    public_key: PublicKey  # always set (computed from the private key when there is one)

    @property
    def is_private(self) -> bool:
        """True for xprv/tprv, False for xpub/tpub."""
        return self.private_key is not None

    @property
    def network(self) -> str:
        """ "main" for xprv/xpub, "test" for tprv/tpub (the sandbox's networks)."""
        return _VERSIONS[self.version][0]

    def fingerprint(self) -> bytes:
        """The first 4 bytes of HASH160 of this key's compressed public key."""
        return hash160(self.public_key.sec(compressed=True))[:4]

    # --- derivation ---------------------------------------------------------------------------

    def child(self, index: int) -> ExtendedKey:
        """CKDpriv or CKDpub: the child at `index` (add `HARDENED` for a hardened child)."""
        if not 0 <= index < 2**32:
            raise DerivationError(f"a child index is 0 to 2^32 - 1, got {index}")
        if self.depth == 255:
            raise DerivationError("an extended key cannot be deeper than 255 levels")
        pub = self.public_key.sec(compressed=True)
        if index >= HARDENED:
            if self.private_key is None:
                raise DerivationError("a hardened child needs the parent's private key")
            data = b"\x00" + self.private_key.to_bytes() + index.to_bytes(4, "big")
        else:
            data = pub + index.to_bytes(4, "big")
        digest = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        tweak, chain_code = int.from_bytes(digest[:32], "big"), digest[32:]
        if tweak >= N:
            raise DerivationError(f"child {index} is invalid (BIP-32: use the next index)")
        if self.private_key is not None:
            secret = (tweak + self.private_key.secret) % N
            if secret == 0:
                raise DerivationError(f"child {index} is invalid (BIP-32: use the next index)")
            private_key = PrivateKey(secret)
            public_key = private_key.public_key()
        else:
            private_key = None
            public_key = _add_tweak(self.public_key, tweak, index)
        return ExtendedKey(
            self.version,
            self.depth + 1,
            hash160(pub)[:4],
            index,
            chain_code,
            private_key,
            public_key,
        )

    def derive(self, path: str | list[int]) -> ExtendedKey:
        """Follow a path such as "m/44'/1'/0'/0/0" (or a list of indices) from this key.

        A path starting "m" must start at a master key (depth 0).
        """
        if isinstance(path, str):
            if path.strip().startswith("m") and self.depth != 0:
                raise DerivationError(
                    f"path {path!r} starts at m but this key has depth {self.depth}"
                )
            indices = parse_path(path)
        else:
            indices = list(path)
        key = self
        for index in indices:
            key = key.child(index)
        return key

    def neuter(self) -> ExtendedKey:
        """The extended public key (xpub/tpub) of this key."""
        if self.private_key is None:
            return self
        return replace(self, version=_versions(self.network)[1], private_key=None)

    # --- serialization ------------------------------------------------------------------------

    def serialize(self) -> bytes:
        """The 78-byte BIP-32 serialization."""
        if self.private_key is not None:
            key_data = b"\x00" + self.private_key.to_bytes()
        else:
            key_data = self.public_key.sec(compressed=True)
        return (
            self.version.to_bytes(4, "big")
            + bytes([self.depth])
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + key_data
        )

    def to_base58(self) -> str:
        """Base58Check text: xprv…, xpub…, tprv… or tpub…."""
        return b58check_encode(self.serialize())

    def __str__(self) -> str:
        return self.to_base58()

    def __repr__(self) -> str:  # never print a private key by accident
        kind = "private" if self.is_private else "public"
        return f"ExtendedKey({kind}, depth={self.depth}, child_number={self.child_number})"

    @classmethod
    def parse(cls, text: str, network: Any = None) -> ExtendedKey:
        """Parse xprv/xpub/tprv/tpub text, enforcing every BIP-32 validity rule (ParseError).

        With a `network`, the version bytes must belong to it (xprv/xpub for "main", tprv/tpub
        for the test networks); with None, any of the four is accepted.
        """
        if not isinstance(text, str):
            raise ParseError("an extended key is text")
        data = b58check_decode(text, max_len=78)
        if len(data) != 78:
            raise ParseError(f"an extended key is 78 bytes, got {len(data)}")
        version = int.from_bytes(data[:4], "big")
        if version not in _VERSIONS:
            raise ParseError(f"unknown extended key version 0x{version:08x}")
        if network is not None and version not in _versions(network):
            raise ParseError("this extended key belongs to another network")
        is_private = _VERSIONS[version][1]
        depth = data[4]
        parent_fingerprint = data[5:9]
        child_number = int.from_bytes(data[9:13], "big")
        chain_code = data[13:45]
        key_data = data[45:]
        if depth == 0 and parent_fingerprint != b"\0\0\0\0":
            raise ParseError("depth 0 (a master key) with a non-zero parent fingerprint")
        if depth == 0 and child_number != 0:
            raise ParseError("depth 0 (a master key) with a non-zero child number")
        if is_private:
            if key_data[0] in (0x02, 0x03):
                raise ParseError("private-key version bytes but a public key inside")
            if key_data[0] != 0x00:
                raise ParseError("an extended private key's key data must start with 0x00")
            secret = int.from_bytes(key_data[1:], "big")
            if not 1 <= secret < N:
                raise ParseError("the private key is not in 1..n-1")
            key = PrivateKey(secret)
            private_key: PrivateKey | None = key
            public_key = key.public_key()
        else:
            if key_data[0] == 0x00:
                raise ParseError("public-key version bytes but a private key inside")
            if key_data[0] not in (0x02, 0x03):
                raise ParseError("an extended public key holds a compressed key (02/03 prefix)")
            private_key = None
            public_key = PublicKey.from_sec(key_data)  # raises ParseError off the curve
        return cls(
            version, depth, parent_fingerprint, child_number, chain_code, private_key, public_key
        )


def _add_tweak(parent: PublicKey, tweak: int, index: int) -> PublicKey:
    """point(tweak) + parent: CKDpub's child public key."""
    curve = SECP256k1.curve
    parent_point = PointJacobi(curve, parent.x, parent.y, 1, N)
    point = SECP256k1.generator * tweak + parent_point
    if point == INFINITY:
        raise DerivationError(f"child {index} is invalid (BIP-32: use the next index)")
    return PublicKey(point.x(), point.y(), compressed=True)


def master_key_from_seed(seed: bytes, network: Any = "regtest") -> ExtendedKey:
    """The master extended private key of a 16- to 64-byte seed (e.g. a BIP-39 seed).

    `network` picks the version bytes: xprv for "main", tprv for the sandbox and test networks.
    """
    if not 16 <= len(seed) <= 64:
        raise ValueError(f"a BIP-32 seed is 16 to 64 bytes, got {len(seed)}")
    digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
    secret = int.from_bytes(digest[:32], "big")
    if not 1 <= secret < N:
        raise DerivationError("this seed gives an invalid master key (BIP-32: use another seed)")
    private_key = PrivateKey(secret)
    return ExtendedKey(
        _versions(network)[0], 0, b"\0\0\0\0", 0, digest[32:], private_key, private_key.public_key()
    )


def parse_path(path: str) -> list[int]:
    """Parse a derivation path ("m/44'/1'/0'/0/0", "m/0H/1", "0/1") into child indices.

    Hardened steps are marked with ', h or H. ParseError for anything else.
    """
    if not isinstance(path, str):
        raise ParseError("a derivation path is text")
    parts = path.strip().split("/")
    if parts and parts[0] == "m":
        parts = parts[1:]
    indices = []
    for part in parts:
        hardened = part[-1:] in ("'", "h", "H")
        digits = part[:-1] if hardened else part
        if not digits.isascii() or not digits.isdigit():
            raise ParseError(f"bad step {part!r} in derivation path {path!r}")
        # Length first: int() refuses strings of over 4,300 digits with a ValueError.
        significant = digits.lstrip("0") or "0"
        if len(significant) > 10 or int(significant) >= HARDENED:
            raise ParseError(f"step {part[:20]!r} is too large: indices are below 2^31 (then ')")
        number = int(significant)
        indices.append(number + HARDENED if hardened else number)
    return indices


def format_path(indices: list[int]) -> str:
    """The text form of a list of child indices, hardened steps marked with '."""
    steps = [f"{i - HARDENED}'" if i >= HARDENED else str(i) for i in indices]
    return "/".join(["m", *steps])
