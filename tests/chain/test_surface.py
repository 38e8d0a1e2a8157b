"""`sandbox_chain/__init__.py`: the learner's stable surface (`from sandbox_chain import …`)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sandbox_chain

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(list(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("name", sandbox_chain.__all__)
def test_every_surface_name_is_the_library_object(name):
    value = getattr(sandbox_chain, name)
    module = importlib.import_module(f"sandbox_chain.{sandbox_chain._EXPORTS[name]}")
    assert value is getattr(module, name)


def test_all_lists_every_export():
    assert sandbox_chain.__all__ == sorted(sandbox_chain._EXPORTS)


def test_the_learner_imports_from_the_package():
    from sandbox_chain import REGTEST, OutPoint, PrivateKey, Transaction, TxIn, TxOut

    key = PrivateKey.from_int(1)
    tx = Transaction(2, [TxIn(OutPoint(bytes(32), 0), b"")], [TxOut(1, b"")], 0)
    assert Transaction.parse(tx.serialize()) == tx
    # The generator's public key: the published compressed SEC encoding of G.
    assert key.public_key().sec().hex() == (
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    )
    assert REGTEST.name == "regtest"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        sandbox_chain.NoSuchThing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from sandbox_chain import NoSuchThing", {})


def test_importing_the_package_loads_nothing_else():
    loaded = _loaded_after("import sandbox_chain")
    assert not {m for m in loaded if m.startswith("sandbox_chain.")}
    assert "ecdsa" not in loaded and "sqlite3" not in loaded


def test_a_name_loads_only_its_own_layers():
    loaded = _loaded_after("from sandbox_chain import sha256, Transaction")
    assert "ecdsa" not in loaded and "sqlite3" not in loaded
    assert "sandbox_chain.chainstate" not in loaded


def _notebook_imports() -> set[str]:
    """Names the course notebooks import from `sandbox_chain`'s modules."""
    names: set[str] = set()
    pattern = re.compile(r"from sandbox_chain(?:\.\w+)* import ([\w, ]+)")
    for path in ROOT.glob("courses/*/source/**/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            for match in pattern.finditer("".join(cell["source"])):
                for item in match.group(1).split(","):
                    name = item.split(" as ")[0].strip()
                    # `from sandbox_chain import keys` imports a module, not a surface name.
                    if name and importlib.util.find_spec(f"sandbox_chain.{name}") is None:
                        names.add(name)
    return names


def test_every_name_the_courses_import_is_on_the_surface():
    # So each notebook can move onto `from sandbox_chain import …` without losing a name.
    wanted = _notebook_imports()
    assert wanted, "no course notebook imports from sandbox_chain: the scan is broken"
    assert wanted <= set(sandbox_chain.__all__), sorted(wanted - set(sandbox_chain.__all__))
