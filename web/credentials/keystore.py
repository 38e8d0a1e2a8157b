"""The issuer's secret keys on disk: Ed25519 signing keys and the issuing address's key.

One JSON file per key in a directory of mode 0700, each written atomically (temp file, fsync,
rename) with mode 0600, so a crash leaves the old file or the new one and no other user can read
a key. A key file whose mode lets others read it is refused, as ssh refuses such a private key.
Keys are never deleted: a rotated or revoked key stays on disk (its public half stays in the
profile), so the history of who signed what can still be explained.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from sandbox_chain.errors import ChainError
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import get_params
from sandbox_chain.wallet import write_file_atomic

from .errors import IssuerError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def private_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed of an Ed25519 key."""
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte Ed25519 public key."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class KeyStore:
    """Secret keys in `directory`: `<name>.json` per key."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise IssuerError(f"bad key name {name!r} (letters, digits, '.', '_', '-')")
        return self.directory / f"{name}.json"

    def _write(self, name: str, data: dict[str, str]) -> None:
        path = self._path(name)
        if path.exists():
            raise IssuerError(f"a key named {name} already exists in {self.directory}")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        write_file_atomic(path, json.dumps(data, indent=2).encode())

    def _read(self, name: str) -> dict[str, str]:
        path = self._path(name)
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise IssuerError(
                    f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}): chmod 600 it"
                )
            data = json.loads(path.read_text("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except FileNotFoundError:
            raise IssuerError(f"no key named {name} in {self.directory}") from None
        except (OSError, ValueError) as exc:
            raise IssuerError(f"{path} is not a readable key file: {exc}") from None

    def names(self) -> list[str]:
        """The names of the stored keys."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))

    # --- Ed25519 signing keys ------------------------------------------------------------------

    def create_signing_key(self, name: str, key_id: str) -> Ed25519PrivateKey:
        """Generate and store a new Ed25519 key for the verification method `key_id`."""
        key = Ed25519PrivateKey.generate()
        self._write(name, {"type": "Ed25519", "id": key_id, "seed": private_bytes(key).hex()})
        return key

    def signing_key(self, name: str) -> tuple[str, Ed25519PrivateKey]:
        """(verification method id, key) of a stored Ed25519 key."""
        data = self._read(name)
        if data.get("type") != "Ed25519":
            raise IssuerError(f"key {name} is not an Ed25519 signing key")
        try:
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data["seed"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise IssuerError(f"key {name} is damaged: {exc}") from None
        return str(data["id"]), key

    # --- the issuing address (secp256k1, sandbox chain) ------------------------------------------

    def create_address_key(self, name: str, network: str) -> PrivateKey:
        """Generate and store a secp256k1 key whose P2PKH address pays for anchors."""
        params = get_params(network)
        key = PrivateKey.from_bytes(os.urandom(32))
        self._write(
            name,
            {
                "type": "secp256k1",
                "network": network,
                "wif": key.to_wif(network=params),
                "address": key.public_key().address(params),
            },
        )
        return key

    def address_key(self, name: str) -> tuple[str, str, PrivateKey]:
        """(address, network, key) of a stored issuing-address key."""
        data = self._read(name)
        if data.get("type") != "secp256k1":
            raise IssuerError(f"key {name} is not an issuing-address key")
        try:
            params = get_params(data["network"])
            key = PrivateKey.from_wif(data["wif"], params)
        except (KeyError, ChainError, ValueError) as exc:
            raise IssuerError(f"key {name} is damaged: {exc}") from None
        return key.public_key().address(params), params.name, key
