"""Issuing: sign credentials with the issuer's key, then anchor a batch of them in one transaction.

Both proofs cover the same unsecured credential (a Data Integrity proof set): the signature does
not depend on the anchor and the anchor does not depend on the signature, so each verifies alone.
The credential's canonical form is computed once and serves the signature and the Merkle leaf.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandbox_chain.keys import PrivateKey

from . import eddsa, merkleproof2019
from .anchor import DEFAULT_FEE_RATE, AnchorTransaction, anchor_root
from .chainsource import Broadcaster
from .errors import AnchorError
from .jsonld import canonicalize
from .merkle import merkle_paths
from .timefmt import format_time


@dataclass(frozen=True)
class SignedCredential:
    """A signed credential and the hash of its canonical form (its future Merkle leaf)."""

    document: dict[str, Any]
    target_hash: bytes


def target_hash(credential: dict[str, Any]) -> bytes:
    """SHA-256 of the credential's canonical N-Quads, proofs removed (the Merkle leaf)."""
    return hashlib.sha256(canonicalize(eddsa.unsecured(credential)).encode("utf-8")).digest()


def sign_credential(
    credential: dict[str, Any], key_id: str, key: Ed25519PrivateKey, created: datetime
) -> SignedCredential:
    """Add the issuer's eddsa-rdfc-2022 proof to an unsigned credential (a new dict)."""
    doc = eddsa.unsecured(credential)
    canon = canonicalize(doc)
    proof = eddsa.create_proof(doc, key, key_id, format_time(created), document_canon=canon)
    return SignedCredential(doc | {"proof": [proof]}, hashlib.sha256(canon.encode()).digest())


def _proofs(credential: dict[str, Any]) -> list[dict[str, Any]]:
    proof = credential.get("proof", [])
    return list(proof) if isinstance(proof, list) else [proof]


def attach_anchor(
    credentials: list[SignedCredential],
    txid: str,
    network: str,
    root: bytes,
    paths: list[list[dict[str, str]]],
    key_id: str,
    created: datetime,
) -> list[dict[str, Any]]:
    """Each credential with its merkle-proof-2019 proof added (replacing an earlier anchor)."""
    anchor = str(merkleproof2019.Anchor(merkleproof2019.SANDBOX_CHAIN, network, txid))
    out = []
    for signed, path in zip(credentials, paths, strict=True):
        receipt = {
            "path": path,
            "merkleRoot": root.hex(),
            "targetHash": signed.target_hash.hex(),
            "anchors": [anchor],
        }
        proof = merkleproof2019.anchor_proof(receipt, key_id, format_time(created))
        kept = [
            p
            for p in _proofs(signed.document)
            if p.get("cryptosuite") != merkleproof2019.CRYPTOSUITE
        ]
        out.append(signed.document | {"proof": [*kept, proof]})
    return out


def anchor_batch(
    credentials: list[SignedCredential],
    source: Broadcaster,
    address_key: PrivateKey,
    key_id: str,
    created: datetime,
    fee_rate: int = DEFAULT_FEE_RATE,
) -> tuple[list[dict[str, Any]], AnchorTransaction, list[list[dict[str, str]]]]:
    """Anchor a batch in one transaction: (anchored credentials, the transaction, the paths)."""
    if not credentials:
        raise AnchorError("nothing to anchor: issue certificates first")
    root, paths = merkle_paths([c.target_hash for c in credentials])
    built = anchor_root(source, root, address_key, fee_rate)
    docs = attach_anchor(credentials, built.txid, source.network, root, paths, key_id, created)
    return docs, built, paths
