"""One rule, one place: constants the library states once and imports everywhere else.

A twin of a constant drifts (the node's user agent was written in three modules; the number of
satoshis in a coin in ten): this scans the package's code for each value written out and fails
where it appears outside the one module that defines it.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

import sandbox_chain

PACKAGE_DIR = Path(sandbox_chain.__file__).parent

# (what, how it is written out, the one module allowed to write it)
DEFINITIONS = [
    ("satoshis per coin (params.COIN)", r"^(100_?000_?000|10\s*\*\*\s*8|1e8)$", "params.py"),
    ("the node's user agent (config.USER_AGENT)", r"/lune-node:", "node/config.py"),
    ("the P2P protocol version (config.PROTOCOL_VERSION)", r"^70016$", "node/config.py"),
    ("the cookie file's name (config.COOKIE_NAME)", r"^[\"']\.cookie[\"']$", "node/config.py"),
    (
        "the node info file's name (config.NODE_INFO_NAME)",
        r"^[\"']node\.json[\"']$",
        "node/config.py",
    ),
    ("the demo chain's directory (clioptions)", r"\.lune/demo/chain", "clioptions.py"),
]


def _code_tokens(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the numbers, strings and `10**8`-style powers in a module's code."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    out = []
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NUMBER:
            out.append((tok.start[0], tok.string))
            nxt = tokens[i + 1 : i + 3]
            if len(nxt) == 2 and nxt[0].string == "**" and nxt[1].type == tokenize.NUMBER:
                out.append((tok.start[0], f"{tok.string}**{nxt[1].string}"))
        elif tok.type == tokenize.STRING:
            out.append((tok.start[0], tok.string))
    return out


@pytest.mark.parametrize(("what", "pattern", "home"), DEFINITIONS, ids=[d[0] for d in DEFINITIONS])
def test_written_out_in_one_module_only(what, pattern, home):
    # Whole literals are matched (a docstring that mentions `.cookie` in a sentence does not
    # count), except the user agent, which no docstring spells either.
    regex = re.compile(pattern)
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        for line, text in _code_tokens(path):
            if regex.search(text) and rel != home:
                found.append(f"{rel}:{line}: {text}")
    assert not found, f"{what} is written out outside {home}: {found}"
    assert any(regex.search(t) for _, t in _code_tokens(PACKAGE_DIR / home)), f"{home} lost it"
