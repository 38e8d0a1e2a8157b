"""Fixtures of the credential tests: a session-wide funded chain template, a fresh issuer."""

from __future__ import annotations

import pytest
from credkit import Issuer, build_template, copy_chain, mine


@pytest.fixture(scope="session")
def chain_template(tmp_path_factory):
    """A closed regtest chain with mature coins for the issuer's address and an outsider."""
    path = tmp_path_factory.mktemp("credchain") / "chain"
    build_template(path)
    return path


@pytest.fixture
def chain(chain_template, tmp_path):
    """A private copy of the template chain."""
    c = copy_chain(chain_template, tmp_path / "chain")
    yield c
    c.close()


@pytest.fixture
def issuer():
    """An issuer with one key and the issuing address."""
    return Issuer.create()


@pytest.fixture
def anchored(issuer, chain):
    """Three certificates signed, anchored in one transaction, mined: (docs, txid)."""
    signed = [issuer.sign(issuer.credential(f"learner{i}@example.org")) for i in range(3)]
    docs, txid = issuer.anchor(chain, signed)
    mine(chain)
    return docs, txid
