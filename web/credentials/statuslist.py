"""Revocation and suspension: W3C Bitstring Status List v1.0, versioned.

Each certificate gets one index, the same in two lists: `revocation` (permanent) and `suspension`
(reversible). A list is a bitstring of at least 131,072 bits (the spec's minimum, for herd privacy),
bit 0 the most significant bit of the first byte, published GZIP-compressed and multibase
base64url (`u…`) as the `encodedList` of a `BitstringStatusListCredential` signed by the issuer
(eddsa-rdfc-2022).

The registry is a log of events (revoke, suspend, reinstate, each with a reason and a time); its
version is the number of events. Every version of every list can be rebuilt from the log and is
published at `<list url>/v<version>` with `validFrom` = the time of that version, the latest one
also at the stable `<list url>`. A verifier that finds a bit set walks back through the versions to
say since when. Reasons stay in the issuer's records: the lists carry bits only.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .eddsa import create_proof
from .errors import DocumentError, StatusError
from .jsonld import VC_V2
from .timefmt import format_time, now, parse_time

PURPOSES = ("revocation", "suspension")
MIN_BITS = 131_072


@dataclass(frozen=True)
class StatusEvent:
    """One change of one bit."""

    version: int
    time: str
    purpose: str
    index: int
    value: bool
    reason: str
    actor: str = ""


def encode_bits(bits: bytes) -> str:
    """`u` + base64url (no padding) of the GZIP-compressed bitstring."""
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_bits(encoded: Any) -> bytes:
    """The bitstring an `encodedList` holds (`DocumentError` if malformed)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise DocumentError("encodedList is not multibase base64url ('u…')")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        with gzip.GzipFile(fileobj=__import__("io").BytesIO(packed)) as f:
            bits = f.read(MIN_BITS * 64 // 8 + 1)  # a bounded read: no decompression bomb
    except (ValueError, OSError, EOFError) as exc:
        raise DocumentError(f"encodedList does not decode: {exc}") from None
    if len(bits) * 8 < MIN_BITS:
        raise DocumentError(f"a status list holds at least {MIN_BITS} bits")
    return bits


def bit_at(bits: bytes, index: int) -> bool:
    """Bit `index` (0 = the most significant bit of the first byte)."""
    if not 0 <= index < len(bits) * 8:
        raise DocumentError(f"status index {index} is outside the list ({len(bits) * 8} bits)")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


class StatusRegistry:
    """The issuer's status lists: allocated indexes and the event log."""

    def __init__(
        self,
        base_url: str,
        created: str,
        size: int = MIN_BITS,
        next_index: int = 0,
        events: list[StatusEvent] | None = None,
    ) -> None:
        if size < MIN_BITS or size % 8:
            raise StatusError(f"a status list has at least {MIN_BITS} bits, a multiple of 8")
        self.base_url = base_url.rstrip("/")
        self.created = created
        self.size = size
        self.next_index = next_index
        self.events: list[StatusEvent] = list(events or [])

    # --- persistence -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The registry as the issuer stores it (reasons included: not for publication)."""
        return {
            "base_url": self.base_url,
            "created": self.created,
            "size": self.size,
            "next_index": self.next_index,
            "events": [asdict(e) for e in self.events],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusRegistry:
        """A registry from `to_json`'s output."""
        try:
            return cls(
                data["base_url"],
                data["created"],
                int(data["size"]),
                int(data["next_index"]),
                [StatusEvent(**e) for e in data["events"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StatusError(f"damaged status registry: {exc}") from None

    # --- indexes and entries -------------------------------------------------------------------

    @property
    def version(self) -> int:
        """How many changes the lists have seen."""
        return len(self.events)

    def list_url(self, purpose: str) -> str:
        """The stable URL of a list."""
        if purpose not in PURPOSES:
            raise StatusError(f"status purpose is one of {', '.join(PURPOSES)}, not {purpose!r}")
        return f"{self.base_url}/{purpose}"

    def version_url(self, purpose: str, version: int) -> str:
        """The URL of one version of a list."""
        return f"{self.list_url(purpose)}/v{version}"

    def allocate(self) -> int:
        """A fresh index for a new certificate."""
        if self.next_index >= self.size:
            raise StatusError(f"the status lists are full ({self.size} certificates)")
        index = self.next_index
        self.next_index += 1
        return index

    def entries(self, index: int) -> list[dict[str, Any]]:
        """The `credentialStatus` of the certificate at `index`: one entry per list."""
        return [
            {
                "id": f"{self.list_url(p)}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": p,
                "statusListIndex": str(index),
                "statusListCredential": self.list_url(p),
            }
            for p in PURPOSES
        ]

    # --- changes -----------------------------------------------------------------------------

    def state(self, index: int, version: int | None = None) -> dict[str, bool]:
        """{purpose: bit} of an index at a version (default: the latest)."""
        out = dict.fromkeys(PURPOSES, False)
        for e in self.events[: self.version if version is None else version]:
            if e.index == index:
                out[e.purpose] = e.value
        return out

    def _change(
        self, index: int, purpose: str, value: bool, reason: str, when: datetime, actor: str
    ) -> StatusEvent:
        if not 0 <= index < self.next_index:
            raise StatusError(f"no certificate has status index {index}")
        if not reason.strip():
            raise StatusError("a reason is required")
        if self.events and parse_time(self.events[-1].time) > when:
            raise StatusError("a status change cannot be dated before the previous one")
        event = StatusEvent(
            self.version + 1, format_time(when), purpose, index, value, reason.strip(), actor
        )
        self.events.append(event)
        return event

    def revoke(self, index: int, reason: str, when: datetime, actor: str = "") -> StatusEvent:
        """Revoke a certificate for good."""
        if self.state(index)["revocation"]:
            raise StatusError(f"certificate {index} is already revoked")
        return self._change(index, "revocation", True, reason, when, actor)

    def suspend(self, index: int, reason: str, when: datetime, actor: str = "") -> StatusEvent:
        """Suspend a certificate until it is reinstated."""
        state = self.state(index)
        if state["revocation"]:
            raise StatusError(f"certificate {index} is revoked: it cannot be suspended")
        if state["suspension"]:
            raise StatusError(f"certificate {index} is already suspended")
        return self._change(index, "suspension", True, reason, when, actor)

    def reinstate(self, index: int, reason: str, when: datetime, actor: str = "") -> StatusEvent:
        """Lift a suspension (a revocation cannot be lifted)."""
        state = self.state(index)
        if state["revocation"]:
            raise StatusError(f"certificate {index} is revoked: revocation is permanent")
        if not state["suspension"]:
            raise StatusError(f"certificate {index} is not suspended")
        return self._change(index, "suspension", False, reason, when, actor)

    # --- publication ---------------------------------------------------------------------------

    def bits(self, purpose: str, version: int | None = None) -> bytes:
        """The bitstring of a list at a version."""
        self.list_url(purpose)
        out = bytearray(self.size // 8)
        for e in self.events[: self.version if version is None else version]:
            if e.purpose == purpose:
                mask = 0x80 >> (e.index % 8)
                if e.value:
                    out[e.index // 8] |= mask
                else:
                    out[e.index // 8] &= ~mask & 0xFF
        return bytes(out)

    def version_time(self, version: int) -> str:
        """When a version came to be (version 0: when the registry was created)."""
        return self.created if version == 0 else self.events[version - 1].time

    def list_credential(
        self,
        purpose: str,
        issuer_id: str,
        key_id: str,
        key: Ed25519PrivateKey,
        version: int | None = None,
        signed_at: datetime | None = None,
    ) -> dict[str, Any]:
        """The signed BitstringStatusListCredential of a list at a version (default latest).

        `validFrom` is when the version came to be; the proof is dated `signed_at` (default now),
        so a version published again after a key rotation is signed by the key valid then.
        """
        version = self.version if version is None else version
        if not 0 <= version <= self.version:
            raise StatusError(f"status lists have versions 0 to {self.version}")
        valid_from = self.version_time(version)
        doc: dict[str, Any] = {
            "@context": [VC_V2],
            "id": self.list_url(purpose),
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer_id,
            "validFrom": valid_from,
            "credentialSubject": {
                "id": f"{self.version_url(purpose, version)}#list",
                "type": "BitstringStatusList",
                "statusPurpose": purpose,
                "encodedList": encode_bits(self.bits(purpose, version)),
            },
        }
        created = format_time(signed_at) if signed_at is not None else format_time(now())
        doc["proof"] = create_proof(doc, key, key_id, created)
        return doc


def list_version(list_credential: dict[str, Any]) -> int | None:
    """The version a list credential states in its subject id (`…/v<n>#list`), or None."""
    try:
        subject_id = list_credential["credentialSubject"]["id"]
        tail = subject_id.rsplit("/v", 1)[1].split("#", 1)[0]
        return int(tail)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError):
        return None
