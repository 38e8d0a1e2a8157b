"""Script parsing, numbers, templates and the interpreter, against Bitcoin Core's script_tests.json.

script_tests.json (1,233 cases after comment rows) is run for every case inside the sandbox
subset: 1,080 cases. Skipped, and why:
  * 113 cases carry a witness (segwit/taproot): outside the subset;
  * 23 cases ask for flags the interpreter does not implement (WITNESS, MINIMALIF, TAPROOT...);
  * 17 cases spend a P2SH scriptPubKey with the P2SH flag (BIP-16 redemption is outside the
    subset; other cases naming the P2SH flag run, since the flag changes nothing for them).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.errors import ParseError, ScriptError
from sandbox_chain.hashes import hash160
from sandbox_chain.keys import PrivateKey
from sandbox_chain.script import (
    FLAG_NAMES,
    MANDATORY_FLAGS,
    OP_CHECKSIG,
    OP_RETURN,
    SCRIPT_VERIFY_CLEANSTACK,
    SCRIPT_VERIFY_MINIMALDATA,
    SCRIPT_VERIFY_NONE,
    SCRIPT_VERIFY_NULLDUMMY,
    STANDARD_FLAGS,
    classify,
    decode_num,
    encode_num,
    eval_script,
    find_and_delete,
    is_push_only,
    iter_script,
    multisig_script,
    op_return_script,
    p2pk_script,
    p2pkh_script,
    parse_flags,
    push_data,
    push_int,
    script_from_asm,
    script_to_asm,
    verify_script,
)
from sandbox_chain.sighash import SIGHASH_ALL, sign_input, sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

EXPECTED_IN_SUBSET = 1080


def is_p2sh(script: bytes) -> bool:
    return len(script) == 23 and script[:2] == b"\xa9\x14" and script[-1] == 0x87


def crediting_and_spending(script_sig: bytes, script_pubkey: bytes) -> Transaction:
    """The transactions of Core's script_tests.cpp (BuildCreditingTransaction and
    BuildSpendingTransaction): version 1, locktime 0, amount 0."""
    credit = Transaction(
        1, [TxIn(OutPoint(b"\0" * 32, 0xFFFFFFFF), b"\x00\x00")], [TxOut(0, script_pubkey)], 0
    )
    return Transaction(1, [TxIn(OutPoint(credit.txid(), 0), script_sig)], [TxOut(0, b"")], 0)


def select_script_tests(core_vectors):
    rows = core_vectors("script_tests.json")
    selected, skipped = [], Counter()
    for row in rows:
        if isinstance(row[0], list):
            skipped["witness"] += 1
            continue
        sig_asm, spk_asm, flags, expected = row[:4]
        if any(name not in FLAG_NAMES for name in filter(None, flags.split(","))):
            skipped["flags"] += 1
            continue
        spk = script_from_asm(spk_asm)
        if "P2SH" in flags.split(",") and is_p2sh(spk):
            skipped["p2sh"] += 1
            continue
        selected.append((script_from_asm(sig_asm), spk, parse_flags(flags), expected, row))
    return selected, skipped


def test_core_script_tests_inside_the_subset(core_vectors):
    selected, skipped = select_script_tests(core_vectors)
    assert len(selected) == EXPECTED_IN_SUBSET
    assert skipped == Counter(witness=113, flags=23, p2sh=17)
    failures = []
    outcomes = Counter()
    for script_sig, spk, flags, expected, row in selected:
        tx = crediting_and_spending(script_sig, spk)
        try:
            verify_script(script_sig, spk, tx, 0, flags)
            got = "OK"
        except ScriptError as exc:
            got = exc.code
        outcomes[got] += 1
        if got != expected:
            failures.append((row, got))
    assert failures == []
    # Both successes and a wide range of Core's error codes are exercised.
    assert outcomes["OK"] > 500 and len(outcomes) > 25


# --- script numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, encoded",
    [(0, ""), (1, "01"), (-1, "81"), (127, "7f"), (128, "8000"), (-128, "8080"),
     (255, "ff00"), (256, "0001"), (-255, "ff80"), (2**31 - 1, "ffffff7f"),
     (-(2**31 - 1), "ffffffff")],
)  # fmt: skip
def test_script_numbers(n, encoded):
    assert encode_num(n).hex() == encoded
    assert decode_num(bytes.fromhex(encoded), require_minimal=True) == n


def test_script_number_limits_and_minimal_rule():
    with pytest.raises(ScriptError) as err:
        decode_num(b"\x00\x00\x00\x00\x01")
    assert err.value.code == "SCRIPTNUM"
    assert decode_num(b"\x00\x00\x00\x00\x01", max_size=5) == 2**32
    assert decode_num(b"\x01\x00") == 1  # non-minimal is fine without MINIMALDATA
    for bad in (b"\x00", b"\x80", b"\x01\x00", b"\x7f\x80"):
        with pytest.raises(ScriptError):
            decode_num(bad, require_minimal=True)
    assert decode_num(b"\xff\x00", require_minimal=True) == 255  # sign byte is needed there


@given(st.integers(-(2**31) + 1, 2**31 - 1))
def test_script_number_round_trip(n):
    assert decode_num(encode_num(n), require_minimal=True) == n


# --- parsing and text form ------------------------------------------------------------------


def test_pushdata_forms_parse():
    script = bytes.fromhex("4c02abcd4d03000102034e01000000ff0051")
    ops = [(op, data) for op, data, _ in iter_script(script)]
    assert ops == [
        (0x4C, b"\xab\xcd"),
        (0x4D, b"\x01\x02\x03"),
        (0x4E, b"\xff"),
        (0x00, b""),
        (0x51, None),
    ]
    assert is_push_only(script)
    assert not is_push_only(script + bytes([OP_CHECKSIG]))


@pytest.mark.parametrize("truncated", ["4c", "4c05ab", "4d01", "4e0100", "02ab"])
def test_truncated_pushes_are_bad_opcodes(truncated):
    with pytest.raises(ScriptError) as err:
        list(iter_script(bytes.fromhex(truncated)))
    assert err.value.code == "BAD_OPCODE"
    with pytest.raises(ScriptError) as err:
        verify_script(b"", bytes.fromhex(truncated), None, 0, SCRIPT_VERIFY_NONE)
    assert err.value.code == "BAD_OPCODE"


def test_push_encodings_are_the_shortest():
    assert push_data(b"") == b"\x00"
    assert push_data(b"\x07" * 75)[:1] == b"\x4b"
    assert push_data(b"\x07" * 76)[:2] == b"\x4c\x4c"
    assert push_data(b"\x07" * 256)[:3] == b"\x4d\x00\x01"
    assert push_int(0) == b"\x00" and push_int(-1) == b"\x4f" and push_int(16) == b"\x60"
    assert push_int(17) == b"\x01\x11"


def test_minimaldata_rejects_a_longer_push_form():
    with pytest.raises(ScriptError) as err:
        verify_script(b"\x4c\x01\x07", b"\x57\x87", None, 0, SCRIPT_VERIFY_MINIMALDATA)
    assert err.value.code == "MINIMALDATA"
    verify_script(b"\x57", b"\x57\x87", None, 0, SCRIPT_VERIFY_MINIMALDATA)  # OP_7 OP_EQUAL


def test_asm_round_trip():
    spk = p2pkh_script(bytes(range(20)))
    asm = script_to_asm(spk)
    assert (
        asm
        == "OP_DUP OP_HASH160 000102030405060708090a0b0c0d0e0f10111213 OP_EQUALVERIFY OP_CHECKSIG"
    )
    assert script_from_asm("DUP HASH160 0x14 0x000102030405060708090a0b0c0d0e0f10111213 "
                           "EQUALVERIFY CHECKSIG") == spk  # fmt: skip
    assert script_from_asm("'abc' -1 0 16 17 NOP2 CHECKLOCKTIMEVERIFY") == bytes.fromhex(
        "036162634f00600111b1b1"
    )
    with pytest.raises(ParseError):
        script_from_asm("NOT_AN_OPCODE")


@pytest.mark.parametrize("word", ["9" * 5000, "-" + "9" * 5000, "4294967296", "-4294967296"])
def test_asm_numbers_out_of_range_are_parse_errors(word):
    # Core's ParseScript accepts -0xFFFFFFFF..0xFFFFFFFF; longer digit strings (even beyond what
    # int() converts) are the same ParseError.
    with pytest.raises(ParseError, match="out of range"):
        script_from_asm(word)


def test_asm_numbers_may_have_leading_zeros():
    assert script_from_asm("0" * 5000 + "16") == bytes([0x60])  # OP_16, as Core reads it


def test_flag_names():
    assert parse_flags("P2SH,STRICTENC") == FLAG_NAMES["P2SH"] | FLAG_NAMES["STRICTENC"]
    assert parse_flags("") == parse_flags("NONE") == 0
    assert MANDATORY_FLAGS & SCRIPT_VERIFY_NULLDUMMY
    assert STANDARD_FLAGS & MANDATORY_FLAGS == MANDATORY_FLAGS
    assert STANDARD_FLAGS & SCRIPT_VERIFY_CLEANSTACK
    with pytest.raises(ParseError):
        parse_flags("WITNESS")


def test_find_and_delete_is_instruction_aligned():
    sig = push_data(b"\xaa")
    assert find_and_delete(sig + b"\x51" + sig, sig) == (b"\x51", 2)
    # The same bytes inside a longer push are data, not an instruction: left alone.
    inside = push_data(b"\x01\xaa\x51")
    assert find_and_delete(inside, sig) == (inside, 0)


# --- templates ------------------------------------------------------------------------------


def test_templates_classify():
    key = PrivateKey.from_int(99).public_key()
    sec = key.sec()
    assert classify(p2pkh_script(hash160(sec))) == ("p2pkh", hash160(sec))
    assert classify(p2pk_script(sec)) == ("p2pk", sec)
    assert classify(p2pk_script(key.sec(False))) == ("p2pk", key.sec(False))
    pubs = [PrivateKey.from_int(i).public_key().sec() for i in (1, 2, 3)]
    assert classify(multisig_script(2, pubs)) == ("multisig", (2, pubs))
    assert classify(op_return_script(b"lune")) == ("nulldata", [b"lune"])
    assert classify(bytes([OP_RETURN])) == ("nulldata", [])
    assert classify(b"\x51") == ("nonstandard", None)
    assert classify(b"\x4c") == ("nonstandard", None)
    assert classify(multisig_script(1, [b"\x02" + b"\x00" * 31])) == ("nonstandard", None)
    with pytest.raises(ValueError):
        multisig_script(3, pubs[:2])


# --- the interpreter on signed transactions ----------------------------------------------------


def _funded(script_pubkey: bytes) -> Transaction:
    return Transaction(
        1, [TxIn(OutPoint(b"\x33" * 32, 1), b"")], [TxOut(1000, p2pkh_script(b"\x44" * 20))], 0
    )


def test_p2pkh_spend_verifies_under_standard_flags_and_tampering_fails():
    key = PrivateKey.from_int(123456789)
    prev = p2pkh_script(key.public_key().hash160())
    tx = _funded(prev)
    script_sig = sign_p2pkh_input(tx, 0, key, prev)
    verify_script(script_sig, prev, tx, 0, STANDARD_FLAGS)
    tx.vout[0].value += 1  # the signature commits to the outputs
    with pytest.raises(ScriptError) as err:
        verify_script(script_sig, prev, tx, 0, STANDARD_FLAGS)
    assert err.value.code == "NULLFAIL"
    with pytest.raises(ScriptError) as err:
        verify_script(script_sig, prev, tx, 0, MANDATORY_FLAGS)
    assert err.value.code == "EVAL_FALSE"


def test_bare_multisig_two_of_three_and_the_dummy_element():
    keys = [PrivateKey.from_int(k) for k in (11, 22, 33)]
    prev = multisig_script(2, [k.public_key().sec() for k in keys])
    tx = _funded(prev)
    sigs = [sign_input(tx, 0, k, prev, SIGHASH_ALL) for k in (keys[0], keys[2])]
    script_sig = b"\x00" + b"".join(push_data(s) for s in sigs)
    verify_script(script_sig, prev, tx, 0, STANDARD_FLAGS)
    # Out of order signatures fail: CHECKMULTISIG walks keys and signatures forwards once.
    backwards = b"\x00" + b"".join(push_data(s) for s in reversed(sigs))
    with pytest.raises(ScriptError):
        verify_script(backwards, prev, tx, 0, MANDATORY_FLAGS)
    # A non-empty dummy is allowed by the original rules, refused under NULLDUMMY.
    dummy = b"\x51" + script_sig[1:]
    verify_script(dummy, prev, tx, 0, SCRIPT_VERIFY_NONE)
    with pytest.raises(ScriptError) as err:
        verify_script(dummy, prev, tx, 0, SCRIPT_VERIFY_NULLDUMMY)
    assert err.value.code == "SIG_NULLDUMMY"


def test_checksig_without_a_transaction_is_false():
    key = PrivateKey.from_int(5)
    sig = key.sign(b"\x00" * 32) + b"\x01"
    stack: list[bytes] = []
    eval_script(stack, push_data(sig) + p2pk_script(key.public_key().sec()), 0)
    assert stack == [b""]


@pytest.mark.parametrize(
    "script, code",
    [
        (b"\x51" * 1001, "STACK_SIZE"),
        (b"\x61" * 202, "OP_COUNT"),
        (b"\x4d\x09\x02" + b"\x00" * 521, "PUSH_SIZE"),
        (b"\x61" * 10_001, "SCRIPT_SIZE"),
        (b"\x51\x51\x7e", "DISABLED_OPCODE"),
        (b"\x00\x63\x7e\x68\x51", "DISABLED_OPCODE"),  # even in an unexecuted branch
        (b"\x00\x63\x65\x68\x51", "BAD_OPCODE"),  # OP_VERIF, also unexecuted
        (b"\x51\x63", "UNBALANCED_CONDITIONAL"),
        (b"\x6a", "OP_RETURN"),
        (b"\x51\x50", "BAD_OPCODE"),
    ],
)
def test_limits_and_forbidden_opcodes(script, code):
    with pytest.raises(ScriptError) as err:
        verify_script(b"", script, None, 0, SCRIPT_VERIFY_NONE)
    assert err.value.code == code


def test_stack_ops_sample():
    # 1 2 3 ROT -> 2 3 1 ; 2SWAP etc. are covered by Core's vectors: here the learner's view.
    stack: list[bytes] = []
    eval_script(stack, script_from_asm("1 2 3 ROT"), 0)
    assert stack == [b"\x02", b"\x03", b"\x01"]
    eval_script(stack, script_from_asm("2 PICK 10 ADD DEPTH"), 0)
    assert stack == [b"\x02", b"\x03", b"\x01", b"\x0c", b"\x04"]


def test_error_texts_stay_importable_from_the_interpreter():
    # Core's error texts moved to script_error.py; the interpreter still exports them.
    from sandbox_chain import interpreter, script_error

    assert interpreter.ERROR_MESSAGES is script_error.ERROR_MESSAGES
    err = script_error.script_error("EQUALVERIFY")
    assert err.code == "EQUALVERIFY" and "OP_EQUALVERIFY" in str(err)


# --- robustness -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([0, STANDARD_FLAGS]))
def test_random_scripts_only_raise_script_errors(script, flags):
    tx = _funded(b"")
    try:
        verify_script(b"", script, tx, 0, flags)
    except ScriptError as exc:
        assert exc.code.isupper()
    try:
        classify(script)
        script_to_asm(script)
        list(iter_script(script))
    except ScriptError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789-x'abcdefOPDUPNIF \u00b2")), max_size=40))
def test_random_asm_text_only_raises_parse_errors(text):
    try:
        script = script_from_asm(text)
    except ParseError:
        return
    assert isinstance(script, bytes)
