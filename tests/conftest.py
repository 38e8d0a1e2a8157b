"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT.parent / "shared" / "vectors"


def _vectors_dir() -> Path:
    override = os.environ.get("LUNE_TEST_VECTORS")
    return Path(override) if override else VECTORS


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The third-party test vectors in ../shared/vectors (Bitcoin Core, BIPs, NIST)."""
    path = _vectors_dir()
    if not path.is_dir():
        pytest.fail(f"test vectors not found at {path}: set LUNE_TEST_VECTORS")
    return path


def load_json_vectors(path: Path) -> list:
    """Bitcoin Core's JSON vector files mix comment rows (one string) with cases; keep cases."""
    rows = json.loads(path.read_text())
    return [r for r in rows if not (len(r) == 1 and isinstance(r[0], str))]


@pytest.fixture(scope="session")
def core_vectors(vectors: Path):
    """`core_vectors("sighash.json")`: the cases of a Bitcoin Core vector file, comments dropped.

    A fixture, because `from conftest import load_json_vectors` breaks as soon as a sub-folder
    has its own conftest.py: both are imported under the module name `conftest`.
    """

    def load(name: str) -> list:
        return load_json_vectors(vectors / "bitcoin-core" / name)

    return load
