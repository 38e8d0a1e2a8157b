"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from vectorlib import VECTORS, load_json_vectors


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The third-party test vectors in tests/vectors (Bitcoin Core, BIPs, NIST, real blocks)."""
    path = VECTORS
    if not path.is_dir():
        pytest.fail(f"test vectors not found at {path}: set LUNE_TEST_VECTORS")
    return path


@pytest.fixture(scope="session")
def core_vectors(vectors: Path):
    """`core_vectors("sighash.json")`: the cases of a Bitcoin Core vector file, comments dropped.

    A fixture, because `from conftest import load_json_vectors` breaks as soon as a sub-folder
    has its own conftest.py: both are imported under the module name `conftest`.
    """

    def load(name: str) -> list:
        return load_json_vectors(vectors / "bitcoin-core" / name)

    return load
