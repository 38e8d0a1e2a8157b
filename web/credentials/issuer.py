"""The issuer's public profile: who issues Lune certificates, with which keys, from which address.

An Open Badges 3.0 `Profile` extended with the verification methods of W3C Controlled Identifiers
1.0: each Ed25519 key is a `Multikey` with its `publicKeyMultibase`, listed in `assertionMethod`,
and with a validity window — `validFrom`, `expires` (set when the key is rotated out: credentials
it signed before stay valid) and `revoked` (the key was compromised: from that date nothing it
signs is trusted, and before it only what an anchor dates). `issuingAddresses` lists the
sandbox-chain addresses that pay for anchor transactions, each with its own window.

The profile holds no secret: publish it at its `id` (a stable URL) and hand it to verifiers who
want to check offline. Secret keys live in `keystore`."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import DocumentError, IssuerError
from .jsonld import OB_V3
from .multibase import ed25519_from_multikey
from .timefmt import format_time, parse_time

PROFILE_CONTEXT = ["https://www.w3.org/ns/cid/v1", OB_V3]


@dataclass(frozen=True)
class KeyWindow:
    """A verification method and when it may sign."""

    id: str
    public_key: bytes
    valid_from: datetime
    expires: datetime | None
    revoked: datetime | None
    revocation_reason: str | None

    def problem_at(self, moment: datetime) -> str | None:
        """Why the key could not sign at `moment`, or None if it could."""
        if moment < self.valid_from:
            return f"key {self.id} is valid from {format_time(self.valid_from)}"
        if self.revoked is not None and moment >= self.revoked:
            return f"key {self.id} was revoked on {format_time(self.revoked)}"
        # `expires` is the last second of the window (a rotation in the same second as a
        # signature does not invalidate it); `revoked` is the first second of distrust.
        if self.expires is not None and moment > self.expires:
            return f"key {self.id} expired on {format_time(self.expires)}"
        return None


@dataclass(frozen=True)
class AddressWindow:
    """An issuing address on a sandbox network and when it may anchor."""

    address: str
    network: str
    valid_from: datetime
    expires: datetime | None

    def problem_at(self, moment: datetime) -> str | None:
        """Why the address could not anchor at `moment`, or None."""
        if moment < self.valid_from:
            return f"address {self.address} is valid from {format_time(self.valid_from)}"
        if self.expires is not None and moment >= self.expires:
            return f"address {self.address} stopped issuing on {format_time(self.expires)}"
        return None


class IssuerProfile:
    """The profile document and the queries verifiers and issuers make of it."""

    def __init__(self, document: dict[str, Any]) -> None:
        if not isinstance(document, dict):
            raise DocumentError("an issuer profile is a JSON object")
        self.document = document
        self.keys = [self._key(vm) for vm in document.get("verificationMethod", [])]
        self.addresses = [self._address(a) for a in document.get("issuingAddresses", [])]
        if not isinstance(document.get("id"), str):
            raise DocumentError("the issuer profile has no id")

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def new(cls, issuer_id: str, name: str, url: str, email: str | None = None) -> IssuerProfile:
        """A profile with no keys yet."""
        doc: dict[str, Any] = {
            "@context": PROFILE_CONTEXT,
            "id": issuer_id,
            "type": ["Profile"],
            "name": name,
            "url": url,
        }
        if email:
            doc["email"] = email
        doc |= {"verificationMethod": [], "assertionMethod": [], "issuingAddresses": []}
        return cls(doc)

    @classmethod
    def load(cls, path: Path) -> IssuerProfile:
        """Read a profile file."""
        try:
            return cls(json.loads(Path(path).read_text("utf-8")))
        except FileNotFoundError:
            raise IssuerError(f"no issuer profile at {path}") from None
        except (OSError, ValueError) as exc:
            raise IssuerError(f"{path} is not a readable issuer profile: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """The publishable document (a copy)."""
        return copy.deepcopy(self.document)

    @property
    def id(self) -> str:
        """The issuer's id (the URL its profile is published at)."""
        return str(self.document["id"])

    def embedded(self) -> dict[str, Any]:
        """The issuer as a credential embeds it: id, type, name, url."""
        out = {"id": self.id, "type": ["Profile"], "name": self.document.get("name", "")}
        if self.document.get("url"):
            out["url"] = self.document["url"]
        return out

    # --- keys --------------------------------------------------------------------------------

    def add_key(self, key_id: str, multikey: str, valid_from: datetime) -> None:
        """Publish a new Ed25519 verification method, valid from `valid_from`."""
        if any(k.id == key_id for k in self.keys):
            raise IssuerError(f"the profile already has a key {key_id}")
        vm = {
            "id": key_id,
            "type": "Multikey",
            "controller": self.id,
            "publicKeyMultibase": multikey,
            "validFrom": format_time(valid_from),
        }
        self.document["verificationMethod"].append(vm)
        self.document["assertionMethod"].append(key_id)
        self.keys.append(self._key(vm))

    def _vm(self, key_id: str) -> dict[str, Any]:
        for vm in self.document["verificationMethod"]:
            if vm.get("id") == key_id:
                return vm
        raise IssuerError(f"the issuer profile has no key {key_id}")

    def expire_key(self, key_id: str, when: datetime) -> None:
        """End a key's window at `when` (rotation): what it signed before stays valid."""
        vm = self._vm(key_id)
        vm["expires"] = format_time(when)
        self._reload()

    def revoke_key(self, key_id: str, when: datetime, reason: str) -> None:
        """Mark a key compromised from `when`."""
        vm = self._vm(key_id)
        vm["revoked"] = format_time(when)
        vm["revocationReason"] = reason
        self._reload()

    def add_address(self, address: str, network: str, valid_from: datetime) -> None:
        """Publish an issuing address."""
        entry = {
            "id": f"{self.id}#{address}",
            "address": address,
            "network": network,
            "validFrom": format_time(valid_from),
        }
        self.document["issuingAddresses"].append(entry)
        self.addresses.append(self._address(entry))

    def expire_address(self, address: str, when: datetime) -> None:
        """Stop an address from issuing after `when`."""
        for entry in self.document["issuingAddresses"]:
            if entry.get("address") == address and "expires" not in entry:
                entry["expires"] = format_time(when)
        self._reload()

    def _reload(self) -> None:
        self.keys = [self._key(vm) for vm in self.document["verificationMethod"]]
        self.addresses = [self._address(a) for a in self.document["issuingAddresses"]]

    def key(self, key_id: str) -> KeyWindow | None:
        """The verification method `key_id` if this issuer lists it for assertions."""
        if key_id not in self.document.get("assertionMethod", []):
            return None
        return next((k for k in self.keys if k.id == key_id), None)

    def signing_key_at(self, moment: datetime) -> KeyWindow:
        """The newest key allowed to sign at `moment`."""
        usable = [k for k in self.keys if k.problem_at(moment) is None]
        if not usable:
            raise IssuerError(f"no issuer key is valid at {format_time(moment)}: add one")
        return max(usable, key=lambda k: k.valid_from)

    def issuing_address_at(self, moment: datetime) -> AddressWindow:
        """The newest address allowed to anchor at `moment`."""
        usable = [a for a in self.addresses if a.problem_at(moment) is None]
        if not usable:
            raise IssuerError(f"no issuing address is valid at {format_time(moment)}")
        return max(usable, key=lambda a: a.valid_from)

    # --- parsing ----------------------------------------------------------------------------

    def _key(self, vm: Any) -> KeyWindow:
        if not isinstance(vm, dict) or not isinstance(vm.get("id"), str):
            raise DocumentError("a verificationMethod of the issuer profile has no id")
        if vm.get("controller") != self.document.get("id"):
            raise DocumentError(f"key {vm['id']} is controlled by someone else")
        return KeyWindow(
            id=vm["id"],
            public_key=ed25519_from_multikey(vm.get("publicKeyMultibase")),
            valid_from=parse_time(vm.get("validFrom"), f"validFrom of key {vm['id']}"),
            expires=parse_time(vm["expires"], "expires") if vm.get("expires") else None,
            revoked=parse_time(vm["revoked"], "revoked") if vm.get("revoked") else None,
            revocation_reason=vm.get("revocationReason"),
        )

    @staticmethod
    def _address(entry: Any) -> AddressWindow:
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            raise DocumentError("an issuingAddresses entry has no address")
        return AddressWindow(
            address=entry["address"],
            network=str(entry.get("network", "regtest")),
            valid_from=parse_time(entry.get("validFrom"), f"validFrom of {entry['address']}"),
            expires=parse_time(entry["expires"], "expires") if entry.get("expires") else None,
        )
