"""The library's layers: every import in `sandbox_chain` goes down (or sideways), never up.

As Bitcoin Core's `lint-circular-dependencies` does for its source tree, this reads the imports
of every module (at module level, inside functions and under `TYPE_CHECKING` alike: a type-only
import is still a dependency a reader has to follow) and fails on

* a module no layer lists (a new module must say where it belongs),
* an import of a module in a higher layer,
* an import circle, even inside one layer.

The layers, bottom to top, are listed in `LAYERS`; docs/chain.md ("How the library is layered")
describes them for readers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sandbox_chain

PACKAGE_DIR = Path(sandbox_chain.__file__).parent

# Bottom to top. A module may import modules of its own layer or of a layer below.
LAYERS: list[tuple[str, set[str]]] = [
    # Byte formats and hash functions. `script` is the script *encoding* (opcodes, pushes,
    # script numbers, standard templates): bytes in, bytes out; running scripts is layer 3.
    (
        "encodings/hashes",
        {"errors", "hashes", "encoding", "bech32", "script", "script_error", "wordlists"},
    ),
    ("keys/signatures", {"signature", "secp_backend", "keys", "address", "bip32", "bip39"}),
    ("transactions/script", {"transaction", "sighash", "stackops", "interpreter"}),
    ("blocks/pow/params", {"block", "pow", "params"}),
    ("validation", {"utxo", "input_check", "checkqueue", "validation", "mempool"}),
    ("chain state", {"storage", "blockindex", "chainview", "chainmempool", "chainstate"}),
    ("miner/wallet", {"miner", "wallet"}),
    # `node` stands for the whole sandbox_chain.node package; `cli` and `clioptions` are the
    # `lune chain` commands.
    ("node", {"node", "cli", "clioptions"}),
    # The learner's surface re-exports names from every layer, and imports nothing at run time
    # (see test_surface.py).
    ("surface", {"__init__"}),
]


def module_name(path: Path) -> str:
    """`sandbox_chain/node/rpc/blockchain.py` → `node.rpc.blockchain` (relative to the package)."""
    parts = list(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """The `sandbox_chain` modules a file imports (relative to the package), from anywhere in it."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    found: set[str] = set()
    known = {module_name(p) for p in PACKAGE_DIR.rglob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif node.module and node.module.split(".")[0] == "sandbox_chain":
                base = []
            else:
                continue
            parts = base + (node.module.split(".") if node.module else [])
            if not node.level:
                parts = parts[1:]  # drop "sandbox_chain"
            target = ".".join(parts)
            for alias in node.names:  # `from . import keys` imports a module
                sub = f"{target}.{alias.name}" if target else alias.name
                found.add(sub if sub in known else target or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sandbox_chain":
                    found.add(".".join(alias.name.split(".")[1:]) or "__init__")
    found.discard(name)
    return found


def layer_of(module: str) -> int:
    """Index in LAYERS of the layer holding `module` (a node module is in layer "node")."""
    top = "node" if module.split(".")[0] == "node" else module
    for index, (_, members) in enumerate(LAYERS):
        if top in members:
            return index
    raise LookupError(module)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports."""
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def test_every_module_is_in_a_layer():
    missing = []
    for module in import_graph():
        try:
            layer_of(module)
        except LookupError:
            missing.append(module)
    assert not missing, f"modules missing from LAYERS in tests/chain/test_layers.py: {missing}"


def test_no_import_goes_up():
    upward = []
    for module, deps in import_graph().items():
        for dep in deps:
            if layer_of(dep) > layer_of(module):
                upward.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports "
                    f"{dep} ({LAYERS[layer_of(dep)][0]})"
                )
    assert not upward, "imports going up a layer:\n" + "\n".join(sorted(upward))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (as a list of modules, first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)) is not None:
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)) is not None:
            return cycle
    return None


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .keys import PrivateKey", {"keys"}),
        ("from . import keys", {"keys"}),
        ("import sandbox_chain.chainstate", {"chainstate"}),
        ("from sandbox_chain.node.rpc import Dispatcher", {"node.rpc"}),
        ("if TYPE_CHECKING:\n    from .chainstate import Chain", {"chainstate"}),
        ("def f():\n    from .miner import mine_block", {"miner"}),
    ],
)
def test_the_checker_sees_every_kind_of_import(monkeypatch, source, expected):
    # A scanner that missed a kind of import would pass any code: prove it sees each one,
    # as if `hashes.py` (the bottom layer) held that line, and that each one is flagged.
    fake = PACKAGE_DIR / "hashes.py"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert imports_of(fake) == expected
    assert all(layer_of(dep) > layer_of("hashes") for dep in expected)


def test_the_checker_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _is_command_line(path: Path) -> bool:
    return path.stem in ("cli", "__main__")


def test_only_command_line_modules_import_the_command_line_modules():
    # A click module is the top of its package: a library (the portal's demo included) that
    # took something from one would drag the CLI in, and break when the CLI changes.
    root = PACKAGE_DIR.parent
    offenders = []
    for path in sorted(
        p for d in ("sandbox_chain", "grader", "web") for p in (root / d).rglob("*.py")
    ):
        if _is_command_line(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.split(".")[-1] == "cli" and n.startswith("sandbox_chain") for n in names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not offenders, f"library modules importing a CLI module: {offenders}"
