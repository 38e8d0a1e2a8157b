"""The library's building blocks: offline JSON-LD, Merkle paths, merkle-proof-2019, key files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from web.credentials import merkleproof2019
from web.credentials.errors import DocumentError, IssuerError, ProofError
from web.credentials.jsonld import canonicalize, document_loader
from web.credentials.keystore import KeyStore
from web.credentials.merkle import merkle_paths, root_from_path

ROOT = Path(__file__).resolve().parents[3]


def test_the_library_imports_nothing_of_flask():
    code = (
        "import sys, pkgutil, importlib, web.credentials as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module(f'web.credentials.{m.name}')\n"
        "web = ('flask', 'flask_babel', 'flask_sqlalchemy', 'werkzeug', 'jinja2')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in web)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""


def test_document_loader_refuses_every_other_url():
    with pytest.raises(DocumentError, match="unknown remote context 'https://example.org/x'"):
        document_loader("https://example.org/x")


def test_undefined_term_is_refused_not_dropped(issuer):
    doc = issuer.credential("a@example.org")
    doc["credentialSubject"]["nickname"] = "Al"
    with pytest.raises(
        DocumentError, match="term not defined by the credential's contexts: nickname"
    ):
        canonicalize(doc)


def test_a_context_object_cannot_redefine_protected_terms(issuer):
    doc = issuer.credential("a@example.org")
    doc["@context"] = [*doc["@context"], {"name": "https://evil.example/name"}]
    with pytest.raises(DocumentError, match="protected term"):
        canonicalize(doc)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
def test_every_leaf_path_leads_to_the_root(n):
    leaves = [bytes([i]) * 32 for i in range(n)]
    root, paths = merkle_paths(leaves)
    for leaf, path in zip(leaves, paths, strict=True):
        assert root_from_path(leaf, path) == root
    if n > 1:
        assert root_from_path(leaves[0], paths[1]) != root


def test_merkle_path_of_a_lone_node_is_promoted_not_duplicated():
    a, b, c = (bytes([i]) * 32 for i in (1, 2, 3))
    root, paths = merkle_paths([a, b, c])
    assert paths[2] == [{"left": root_from_path(a, [{"right": b.hex()}]).hex()}]


def test_receipt_round_trip_and_anchor_form():
    receipt = {
        "path": [{"left": "11" * 32}, {"right": "22" * 32}],
        "merkleRoot": "33" * 32,
        "targetHash": "44" * 32,
        "anchors": ["blink:lune:regtest:" + "55" * 32],
    }
    value = merkleproof2019.encode_receipt(receipt)
    assert value.startswith("z")
    assert merkleproof2019.decode_receipt(value) == receipt


@pytest.mark.parametrize(
    "value,message",
    [
        ("not-multibase", "not multibase base58btc"),
        ("z0OIl", "not multibase base58btc"),
        ("z" + "1" * 10, "unexpected structure|not CBOR|lacks"),
    ],
)
def test_malformed_receipt_values(value, message):
    with pytest.raises(ProofError, match=message):
        merkleproof2019.decode_receipt(value)


def test_unknown_chain_in_anchor():
    with pytest.raises(ProofError, match="unknown chain"):
        merkleproof2019.Anchor.parse("blink:doge:mainnet:" + "00" * 32)


def test_key_files_are_private_and_a_readable_one_is_refused(tmp_path):
    store = KeyStore(tmp_path / "keys")
    store.create_signing_key("key-1", "https://x.example/i#key-1")
    path = tmp_path / "keys" / "key-1.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "keys").stat().st_mode & 0o777) == "0o700"
    assert json.loads(path.read_text())["type"] == "Ed25519"
    with pytest.raises(IssuerError, match="already exists"):
        store.create_signing_key("key-1", "https://x.example/i#key-1")
    os.chmod(path, 0o644)
    with pytest.raises(IssuerError, match="readable by other users"):
        store.signing_key("key-1")
    with pytest.raises(IssuerError, match="bad key name"):
        store.signing_key("../etc/passwd")
