"""The Merkle tree of an issuance batch, as Blockcerts builds it (Chainpoint's merkle tools).

Leaves are the SHA-256 hashes of the credentials' canonical N-Quads (the `targetHash`). A parent is
SHA-256(left ‖ right) of the two 32-byte children; a node left alone at the end of a level is
promoted unchanged (it is not paired with itself as Bitcoin's block Merkle tree does). The path of
a leaf is the list of its siblings from the bottom, each tagged `left` or `right` — the JSON form
that `merkle-proof-2019` encodes — so verifying one credential takes only its own path."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .errors import ProofError

PathStep = dict[str, str]  # {"left": hex} or {"right": hex}


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, the root's one-element level last."""
    if not leaves:
        raise ProofError("a Merkle tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        nxt = [_parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over `leaves`."""
    return tree_levels(leaves)[-1][0]


def merkle_paths(leaves: Sequence[bytes]) -> tuple[bytes, list[list[PathStep]]]:
    """(root, path of each leaf): the whole batch in one pass over the tree."""
    levels = tree_levels(leaves)
    paths: list[list[PathStep]] = []
    for index in range(len(leaves)):
        path: list[PathStep] = []
        i = index
        for level in levels[:-1]:
            if i % 2:
                path.append({"left": level[i - 1].hex()})
            elif i + 1 < len(level):
                path.append({"right": level[i + 1].hex()})
            i //= 2
        paths.append(path)
    return levels[-1][0], paths


def root_from_path(target: bytes, path: Sequence[PathStep]) -> bytes:
    """Fold a leaf with its path up to the root it implies."""
    node = target
    for step in path:
        if not isinstance(step, dict) or len(step) != 1:
            raise ProofError("a Merkle path step is {'left': hex} or {'right': hex}")
        ((side, sibling_hex),) = step.items()
        try:
            sibling = bytes.fromhex(sibling_hex)
        except (TypeError, ValueError):
            raise ProofError(f"Merkle path step {sibling_hex!r} is not hex") from None
        if len(sibling) != 32:
            raise ProofError("a Merkle path step holds a 32-byte hash")
        if side == "left":
            node = _parent(sibling, node)
        elif side == "right":
            node = _parent(node, sibling)
        else:
            raise ProofError(f"a Merkle path step is 'left' or 'right', not {side!r}")
    return node
