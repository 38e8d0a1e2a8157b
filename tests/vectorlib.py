"""Where the third-party test vectors live, and how to read Bitcoin Core's JSON files.

A plain module (not conftest.py) so tests can import it: `from vectorlib import ...`. pytest puts
`tests/` on sys.path because tests/conftest.py sits there without an `__init__.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Third-party public vectors (Bitcoin Core, BIPs, NIST, real mainnet blocks), copied byte for byte
# with their provenance and licences in tests/vectors/README.md. LUNE_TEST_VECTORS points elsewhere.
VECTORS = Path(os.environ.get("LUNE_TEST_VECTORS") or ROOT / "tests" / "vectors")


def load_json_vectors(path: Path) -> list:
    """Bitcoin Core's JSON vector files mix comment rows (one string) with cases; keep cases."""
    rows = json.loads(Path(path).read_text())
    return [r for r in rows if not (len(r) == 1 and isinstance(r[0], str))]
