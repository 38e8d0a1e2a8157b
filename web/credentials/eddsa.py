"""`eddsa-rdfc-2022` Data Integrity proofs: Ed25519 over RDFC-1.0 canonical N-Quads.

Follows W3C "Data Integrity EdDSA Cryptosuites v1.0", section 3.2 (eddsa-rdfc-2022):

1. canonicalize the document without its `proof` (RDFC-1.0) and hash it with SHA-256;
2. canonicalize the proof options — the proof without `proofValue`, with the document's `@context` —
   and hash them with SHA-256;
3. sign `proof_hash ‖ document_hash` with Ed25519; `proofValue` = `z` + base58btc(signature).

The Open Badges 3.0 test vector (tests/vectors/ob3) is reproduced byte for byte by this module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import ProofError
from .jsonld import canonicalize
from .multibase import decode_base58btc, encode_base58btc

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"


@dataclass(frozen=True)
class SigningInput:
    """What an eddsa-rdfc-2022 signature covers, step by step (the vector checks each)."""

    document_canon: str
    proof_canon: str
    document_hash: bytes
    proof_hash: bytes

    @property
    def data(self) -> bytes:
        """proof_hash ‖ document_hash: the 64 bytes signed."""
        return self.proof_hash + self.document_hash


def unsecured(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its `proof` (what every proof of a proof set covers)."""
    return {k: v for k, v in document.items() if k != "proof"}


def signing_input(
    document: dict[str, Any],
    proof_options: dict[str, Any],
    document_canon: str | None = None,
) -> SigningInput:
    """Canonical forms and hashes of the document (its proof removed) and of the proof options.

    `document_canon`, when the caller already has it (a batch, a verifier checking two proofs),
    saves canonicalizing the document again.
    """
    doc = unsecured(document)
    options = {k: v for k, v in proof_options.items() if k not in ("proofValue", "@context")}
    options["@context"] = doc.get("@context")
    doc_canon = canonicalize(doc) if document_canon is None else document_canon
    proof_canon = _options_canon(json.dumps(options, sort_keys=True))
    return SigningInput(
        doc_canon,
        proof_canon,
        hashlib.sha256(doc_canon.encode("utf-8")).digest(),
        hashlib.sha256(proof_canon.encode("utf-8")).digest(),
    )


@lru_cache(maxsize=256)
def _options_canon(options_json: str) -> str:
    # A batch's proofs share their options (key, time): canonicalize them once.
    return canonicalize(json.loads(options_json))


def proof_options(verification_method: str, created: str) -> dict[str, Any]:
    """The proof options of an assertion proof by `verification_method` at `created`."""
    return {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }


def create_proof(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    document_canon: str | None = None,
) -> dict[str, Any]:
    """An eddsa-rdfc-2022 `DataIntegrityProof` of `document` (which is not modified)."""
    options = proof_options(verification_method, created)
    signature = key.sign(signing_input(document, options, document_canon).data)
    return options | {"proofValue": encode_base58btc(signature)}


def verify_proof(
    document: dict[str, Any],
    proof: dict[str, Any],
    public_key: bytes,
    document_canon: str | None = None,
) -> None:
    """Check one eddsa-rdfc-2022 proof of `document` by the 32-byte Ed25519 `public_key`.

    Raises `ProofError` with what failed; `DocumentError` if the document cannot be canonicalized.
    """
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    signature = decode_base58btc(proof.get("proofValue"), "proofValue")
    if len(signature) != 64:
        raise ProofError(f"proofValue holds {len(signature)} bytes, an Ed25519 signature is 64")
    data = signing_input(document, proof, document_canon).data
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature:
        raise ProofError(
            "signature does not match: the credential or its proof was changed after signing, "
            "or another key signed it"
        ) from None
    except ValueError as exc:
        raise ProofError(f"bad Ed25519 public key: {exc}") from None
