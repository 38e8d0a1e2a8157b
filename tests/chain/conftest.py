"""Fixtures shared by the chain tests."""

from __future__ import annotations

import pytest
from chainkit import copy_chain, funded_template


@pytest.fixture
def chain(tmp_path_factory, tmp_path):
    """A regtest chain with mature coins to spend: a fresh copy of one session-wide template."""
    c = copy_chain(funded_template(tmp_path_factory), tmp_path / "chain")
    yield c
    c.close()
