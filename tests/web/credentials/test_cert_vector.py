"""The published Open Badges 3.0 eddsa-rdfc-2022 vector, reproduced byte for byte."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from web.credentials import eddsa
from web.credentials.errors import ProofError
from web.credentials.jsonld import SHIPPED_CONTEXTS, canonicalize, document_loader
from web.credentials.multibase import ed25519_multikey


@pytest.fixture(scope="module")
def ob3(vectors):
    """The vector and its canonical files."""
    folder = vectors / "ob3"
    data = json.loads((folder / "ob3_eddsa_rdfc_2022_vector.json").read_text())
    data["document_canon"] = (folder / data["document_canon_file"]).read_text()
    data["proof_canon"] = (folder / data["proof_canon_file"]).read_text()
    return data


def test_shipped_contexts_are_the_vendored_files(vectors, ob3):
    for url, name in ob3["contexts"].items():
        assert SHIPPED_CONTEXTS[url] == name
        shipped = document_loader(url)["document"]
        assert shipped == json.loads((vectors / "ob3" / name).read_text())


def test_canonical_nquads_of_credential_and_proof_options(ob3):
    assert canonicalize(ob3["unsigned_credential"]) == ob3["document_canon"]
    si = eddsa.signing_input(ob3["unsigned_credential"], ob3["proof_options"])
    assert si.document_canon == ob3["document_canon"]
    assert si.proof_canon == ob3["proof_canon"]


def test_hashes_and_data_to_sign(ob3):
    si = eddsa.signing_input(ob3["unsigned_credential"], ob3["proof_options"])
    assert si.document_hash.hex() == ob3["document_hash_hex"]
    assert si.proof_hash.hex() == ob3["proof_hash_hex"]
    assert si.data.hex() == ob3["data_to_sign_hex"]


def test_signature_and_proof_value(ob3):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ob3["key"]["private_key_seed_hex"]))
    si = eddsa.signing_input(ob3["unsigned_credential"], ob3["proof_options"])
    assert key.sign(si.data).hex() == ob3["signature_hex"]  # Ed25519 is deterministic
    opts = ob3["proof_options"]
    proof = eddsa.create_proof(
        ob3["unsigned_credential"], key, opts["verificationMethod"], opts["created"]
    )
    assert proof == ob3["signed_credential"]["proof"]
    assert proof["proofValue"] == ob3["proof_value"]


def test_public_key_multibase(ob3):
    pub = bytes.fromhex(ob3["key"]["public_key_hex"])
    assert ed25519_multikey(pub) == ob3["key"]["public_key_multibase"]


def test_signed_credential_verifies(ob3):
    signed = ob3["signed_credential"]
    eddsa.verify_proof(signed, signed["proof"], bytes.fromhex(ob3["key"]["public_key_hex"]))


def test_signed_credential_with_one_changed_character_fails(ob3):
    signed = json.loads(json.dumps(ob3["signed_credential"]))
    signed["credentialSubject"]["achievement"]["name"] = "Teamwerk"
    with pytest.raises(ProofError, match="signature does not match"):
        eddsa.verify_proof(signed, signed["proof"], bytes.fromhex(ob3["key"]["public_key_hex"]))
