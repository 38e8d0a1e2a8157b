"""Notebooks the portal's tests upload: a module's solved notebook and forged variants."""

from __future__ import annotations

import json
from pathlib import Path

COURSE = Path(__file__).resolve().parents[2] / "courses" / "lune-101"


def solved(module: str) -> bytes:
    """The module's source notebook: every solution written, as a learner who finished it."""
    return (COURSE / "source" / module / f"{module}.ipynb").read_bytes()


FORGED_SHA256 = '''class _AlwaysEqual(str):
    """Claims to equal anything: the classic way to fool an in-kernel assert."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


def sha256_hex(data: bytes) -> str:
    return _AlwaysEqual("forged")
'''


def forged(module: str = "01-hashing", function: str = "sha256_hex") -> bytes:
    """The solved notebook with one exercise answered by an always-equal object."""
    nb = json.loads(solved(module))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") == function:
            cell["source"] = FORGED_SHA256
    return json.dumps(nb).encode()
