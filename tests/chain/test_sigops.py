"""validation.legacy_sigop_count counts as Core's GetSigOpCount(false) does.

The reference below walks the script with `script.get_op` (Core's GetScriptOp) and stops at
the first unreadable instruction; the fast shortcuts in `legacy_sigop_count` (the P2PKH
template, ops that are neither pushes nor sigops) must give the same counts.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.script import get_op, multisig_script, p2pk_script, p2pkh_script
from sandbox_chain.validation import legacy_sigop_count


def reference(script: bytes) -> int:
    count, pc = 0, 0
    while pc < len(script):
        ok, op, _, pc = get_op(script, pc)
        if not ok:
            break
        count += 1 if op in (0xAC, 0xAD) else 20 if op in (0xAE, 0xAF) else 0
    return count


def test_templates():
    assert legacy_sigop_count(p2pkh_script(b"\x01" * 20)) == 1
    assert legacy_sigop_count(p2pk_script(b"\x02" + b"\x01" * 32)) == 1
    assert legacy_sigop_count(multisig_script(1, [b"\x02" + b"\x01" * 32])) == 20
    # 25 bytes that only look like P2PKH at the edges still count by instructions.
    assert legacy_sigop_count(b"\x76\xa9\x14" + b"\xac" * 20 + b"\x88\xac") == 1
    assert legacy_sigop_count(b"\x76\xa9\x13" + b"\xac" * 20 + b"\x88\xac") == 2
    assert legacy_sigop_count(b"\x76\xa9\x16" + b"\xac" * 20 + b"\x88\xac") == 0


interesting = st.sampled_from([0x00, 0x01, 0x14, 0x4B, 0x4C, 0x4D, 0x4E, 0x76, 0xA9, 0x88])
ops = st.one_of(st.integers(0, 255), st.sampled_from([0xAC, 0xAD, 0xAE, 0xAF]), interesting)


@settings(max_examples=500, deadline=None)
@given(script=st.lists(ops, max_size=40).map(bytes))
def test_random_scripts(script):
    assert legacy_sigop_count(script) == reference(script)


@settings(max_examples=300, deadline=None)
@given(middle=st.lists(ops, min_size=20, max_size=20).map(bytes))
def test_p2pkh_shaped_scripts(middle):
    script = b"\x76\xa9\x14" + middle + b"\x88\xac"
    assert legacy_sigop_count(script) == reference(script)
