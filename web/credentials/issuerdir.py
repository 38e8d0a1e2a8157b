"""An issuer's data directory: what `lune cert` keeps between commands.

```
<dir>/config.json          issuer settings (which key signs, which address pays, the network)
<dir>/profile.json         the public issuer profile (publish it at its id)
<dir>/keys/                secret keys, mode 0700, one 0600 file per key (see keystore)
<dir>/status.json          the status registry with reasons (private)
<dir>/credentials/<id>.json  every certificate issued, as last written (signed, then anchored)
<dir>/pending.json         certificates signed but not yet anchored, with their Merkle leaves
<dir>/batches/<txid>.json  each anchor: root, transaction (raw, to rebroadcast), certificates
```

Every file is written atomically (temp file, fsync, rename), so a crash mid-command leaves each file
old or new. The order of writes makes a crash harmless: an anchor writes its batch record before it
rewrites the certificates and empties `pending.json` last, so a rerun finds what is left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox_chain.wallet import write_file_atomic

from .errors import IssuerError
from .issuance import SignedCredential
from .issuer import IssuerProfile
from .keystore import KeyStore, public_bytes
from .multibase import ed25519_multikey
from .statuslist import PURPOSES, StatusRegistry
from .timefmt import format_time

CONFIG_VERSION = 1


@dataclass
class IssuerConfig:
    """Settings of an issuer directory."""

    issuer_id: str
    network: str
    status_url: str
    signing_key: str  # name in the key store
    address_key: str  # name in the key store
    key_counter: int = 1
    address_counter: int = 1


class IssuerDir:
    """The files of one issuer."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.keys = KeyStore(self.root / "keys")

    # --- paths and raw I/O ----------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        """config.json."""
        return self.root / "config.json"

    @property
    def profile_path(self) -> Path:
        """profile.json (public)."""
        return self.root / "profile.json"

    def _write_json(self, path: Path, data: Any, mode: int = 0o600) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(
            path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(), mode
        )

    def _read_json(self, path: Path, what: str) -> Any:
        try:
            return json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise IssuerError(
                f"no {what} in {self.root}: set up the issuer with `lune cert init`"
            ) from None
        except (OSError, ValueError) as exc:
            raise IssuerError(f"{path} is damaged: {exc}") from None

    # --- creation ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        root: Path,
        *,
        issuer_id: str,
        name: str,
        url: str,
        status_url: str,
        network: str,
        when: datetime,
        email: str | None = None,
    ) -> IssuerDir:
        """A new issuer: a signing key, an issuing address, the profile and empty status lists."""
        d = cls(root)
        if d.config_path.exists():
            raise IssuerError(f"{root} already holds an issuer ({d.load_config().issuer_id})")
        profile = IssuerProfile.new(issuer_id, name, url, email)
        key_id = f"{issuer_id}#key-1"
        key = d.keys.create_signing_key("key-1", key_id)
        profile.add_key(key_id, ed25519_multikey(public_bytes(key)), when)
        address_key = d.keys.create_address_key("address-1", network)
        from sandbox_chain.params import get_params

        profile.add_address(address_key.public_key().address(get_params(network)), network, when)
        d.save_profile(profile)
        d.save_registry(StatusRegistry(status_url, format_time(when)))
        d.save_config(IssuerConfig(issuer_id, network, status_url, "key-1", "address-1"))
        return d

    # --- config, profile, registry --------------------------------------------------------------

    def load_config(self) -> IssuerConfig:
        """Read config.json."""
        data = self._read_json(self.config_path, "issuer")
        try:
            if data.pop("version") != CONFIG_VERSION:
                raise ValueError("unsupported version")
            return IssuerConfig(**data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IssuerError(f"{self.config_path} is damaged: {exc}") from None

    def save_config(self, config: IssuerConfig) -> None:
        """Write config.json."""
        self._write_json(self.config_path, {"version": CONFIG_VERSION, **config.__dict__})

    def load_profile(self) -> IssuerProfile:
        """Read the issuer profile."""
        return IssuerProfile(self._read_json(self.profile_path, "issuer profile"))

    def save_profile(self, profile: IssuerProfile) -> None:
        """Write the issuer profile (world-readable: it is public)."""
        self._write_json(self.profile_path, profile.to_json(), 0o644)

    def load_registry(self) -> StatusRegistry:
        """Read the status registry."""
        return StatusRegistry.from_json(self._read_json(self.root / "status.json", "status lists"))

    def save_registry(self, registry: StatusRegistry) -> None:
        """Write the status registry (private: it holds the reasons)."""
        self._write_json(self.root / "status.json", registry.to_json())

    def status_lists(self, version: int | None = None) -> list[dict[str, Any]]:
        """The signed status-list credentials at a version (default: the latest)."""
        config = self.load_config()
        key_id, key = self.keys.signing_key(config.signing_key)
        registry = self.load_registry()
        return [
            registry.list_credential(p, config.issuer_id, key_id, key, version) for p in PURPOSES
        ]

    # --- certificates ----------------------------------------------------------------------------

    def credential_path(self, credential_id: str) -> Path:
        """Where a certificate is kept (named after its UUID)."""
        name = credential_id.rsplit(":", 1)[-1]
        if not name or "/" in name or name.startswith("."):
            raise IssuerError(f"bad credential id {credential_id!r}")
        return self.root / "credentials" / f"{name}.json"

    def save_credential(self, credential: dict[str, Any]) -> Path:
        """Write one certificate."""
        path = self.credential_path(str(credential["id"]))
        self._write_json(path, credential, 0o644)
        return path

    def load_credential(self, ref: str) -> dict[str, Any]:
        """A certificate by id, file path, or status index."""
        path = Path(ref)
        if not path.is_file():
            if ref.isdigit():
                for candidate in self.credentials():
                    status = candidate.get("credentialStatus") or []
                    if any(str(e.get("statusListIndex")) == ref for e in status):
                        return candidate
                raise IssuerError(f"no certificate has status index {ref}")
            path = self.credential_path(ref)
        data = self._read_json(path, f"certificate {ref}")
        if not isinstance(data, dict):
            raise IssuerError(f"{path} is not a certificate")
        return data

    def credentials(self) -> list[dict[str, Any]]:
        """Every certificate issued, oldest first."""
        folder = self.root / "credentials"
        if not folder.is_dir():
            return []
        docs = [self._read_json(p, "certificate") for p in folder.glob("*.json")]
        return sorted(docs, key=lambda d: (str(d.get("validFrom")), str(d.get("id"))))

    def pending(self) -> list[SignedCredential]:
        """Certificates waiting for an anchor."""
        path = self.root / "pending.json"
        if not path.exists():
            return []
        out = []
        for entry in self._read_json(path, "pending list"):
            doc = self.load_credential(entry["id"])
            out.append(SignedCredential(doc, bytes.fromhex(entry["target_hash"])))
        return out

    def save_pending(self, items: list[SignedCredential]) -> None:
        """Write the pending list."""
        data = [{"id": s.document["id"], "target_hash": s.target_hash.hex()} for s in items]
        self._write_json(self.root / "pending.json", data)

    def save_batch(self, record: dict[str, Any]) -> None:
        """Record an anchor transaction."""
        self._write_json(self.root / "batches" / f"{record['txid']}.json", record)

    def load_batch(self, txid: str) -> dict[str, Any]:
        """An anchor record by txid."""
        if len(txid) != 64 or any(c not in "0123456789abcdef" for c in txid.lower()):
            raise IssuerError(f"{txid!r} is not a txid")
        return self._read_json(self.root / "batches" / f"{txid.lower()}.json", f"batch {txid}")

    def publish(self, out: Path) -> list[Path]:
        """Write the public files for static hosting: profile, every version of each status list."""
        out = Path(out)
        written = []
        profile = self.load_profile()
        target = out / "profile.json"
        self._write_json(target, profile.to_json(), 0o644)
        written.append(target)
        registry = self.load_registry()
        config = self.load_config()
        key_id, key = self.keys.signing_key(config.signing_key)
        for purpose in PURPOSES:
            for version in range(registry.version + 1):
                doc = registry.list_credential(purpose, config.issuer_id, key_id, key, version)
                target = out / "status" / purpose / f"v{version}.json"
                self._write_json(target, doc, 0o644)
                written.append(target)
            latest = out / "status" / f"{purpose}.json"
            self._write_json(
                latest, registry.list_credential(purpose, config.issuer_id, key_id, key), 0o644
            )
            written.append(latest)
        return written
