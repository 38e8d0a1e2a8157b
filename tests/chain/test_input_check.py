"""input_check.verify_input (the P2PKH fast path) gives the interpreter's exact answers.

`check_standard_input` (the same checks from a transaction's bytes, run by the check queue's
worker) is compared with the fast path on every input below too.

Differential tests: the same inputs go through `verify_input` and through
`interpreter.verify_script`; both must succeed, or both fail with the same error code. Inputs:
Bitcoin Core's script_tests.json, tx_valid.json and tx_invalid.json (every case whose flags the
interpreter knows; most are not P2PKH and simply reach the interpreter, the P2PKH-shaped ones
exercise the fast path), and random P2PKH spends, valid and mutated, under random flags.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox_chain.errors import ScriptError
from sandbox_chain.hashes import hash160
from sandbox_chain.input_check import (
    SighashCache,
    _p2pkh_fast,
    check_standard_input,
    verify_input,
)
from sandbox_chain.interpreter import verify_script
from sandbox_chain.keys import PrivateKey
from sandbox_chain.script import FLAG_NAMES, p2pkh_script, push_data, script_from_asm
from sandbox_chain.sighash import legacy_sighash, serialize_script_code
from sandbox_chain.signature import N, decode_der, encode_der
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut


def outcome(fn, *args) -> str:
    try:
        fn(*args)
    except ScriptError as exc:
        return exc.code
    return "OK"


def both(script_sig: bytes, spk: bytes, tx: Transaction, index: int, flags: int):
    """(fast path took it, verify_input's outcome, the interpreter's outcome)."""
    fast = _p2pkh_fast(script_sig, spk, tx, index, flags, SighashCache(tx))
    mine = outcome(verify_input, tx, index, script_sig, spk, flags, SighashCache(tx))
    interp = outcome(verify_script, script_sig, spk, tx, index, flags)
    if not tx.has_witness() and tx.vin[index].script_sig == script_sig:
        # What the check queue's worker runs, from the transaction's bytes: the same answer.
        assert check_standard_input(tx.serialize_legacy(), index, spk, flags) == fast
    return fast, mine, interp


def is_p2pkh(spk: bytes) -> bool:
    return len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac"


def flags_of(text: str) -> int | None:
    flags = 0
    for name in filter(None, text.split(",")):
        if name not in FLAG_NAMES:
            return None
        flags |= FLAG_NAMES[name]
    return flags


def test_core_script_tests_agree(core_vectors):
    seen = Counter()
    for row in core_vectors("script_tests.json"):
        if isinstance(row[0], list):
            continue  # witness cases
        flags = flags_of(row[2])
        if flags is None:
            continue
        script_sig, spk = script_from_asm(row[0]), script_from_asm(row[1])
        credit = Transaction(
            1, [TxIn(OutPoint(b"\0" * 32, 0xFFFFFFFF), b"\x00\x00")], [TxOut(0, spk)], 0
        )
        tx = Transaction(1, [TxIn(OutPoint(credit.txid(), 0), script_sig)], [TxOut(0, b"")], 0)
        fast, mine, interp = both(script_sig, spk, tx, 0, flags)
        assert mine == interp, row
        assert not fast or interp == "OK", row
        seen["fast" if fast else "p2pkh" if is_p2pkh(spk) else "other"] += 1
    # Its two P2PKH cases: one valid (the fast path takes it), one failing (the interpreter).
    assert seen == Counter(other=1095, fast=1, p2pkh=1)


def test_core_tx_vectors_agree(core_vectors):
    ran = Counter()
    for name in ("tx_valid.json", "tx_invalid.json"):
        for row in core_vectors(name):
            tx = Transaction.from_hex(row[1])
            spks = {
                (bytes.fromhex(p[0])[::-1], p[1] & 0xFFFFFFFF): script_from_asm(p[2])
                for p in row[0]
            }
            for flags_text in (row[2], "", "DERSIG,LOW_S,STRICTENC,NULLFAIL,CLEANSTACK"):
                flags = flags_of(flags_text.replace("BADTX", ""))
                if flags is None:
                    continue
                for index, txin in enumerate(tx.vin):
                    spk = spks.get((txin.prevout.txid, txin.prevout.vout))
                    if spk is None:
                        continue
                    fast, mine, interp = both(txin.script_sig, spk, tx, index, flags)
                    assert mine == interp, (row, flags_text, index)
                    assert not fast or interp == "OK", (row, flags_text, index)
                    ran["fast" if fast else "interpreter"] += 1
    # Real signed P2PKH spends are among them and take the fast path.
    assert ran["fast"] >= 40 and ran["interpreter"] > 500


KEYS = [PrivateKey.from_int(k) for k in (1, 2, 0xC0FFEE, N - 1)]
ALL_FLAG_BITS = sorted(set(FLAG_NAMES.values()) - {0})
MUTATIONS = [
    "none",
    "sig-byte",
    "pub-byte",
    "high-s",
    "other-key",
    "uncompressed",
    "hashtype",
    "tx-changed",
    "pad-r",
    "extra-push",
    "pushdata1",
]


@settings(max_examples=250, deadline=None)
@given(
    key=st.sampled_from(KEYS),
    n_in=st.integers(1, 3),
    n_out=st.integers(1, 3),
    index=st.integers(0, 2),
    hash_type=st.sampled_from([1, 2, 3, 0x81, 0x82, 0x83, 0, 4, 0x41]),
    flag_bits=st.sets(st.sampled_from(ALL_FLAG_BITS)),
    mutation=st.sampled_from(MUTATIONS),
    where=st.integers(0, 200),
    compressed=st.booleans(),
)
def test_random_p2pkh_spends_agree(
    key, n_in, n_out, index, hash_type, flag_bits, mutation, where, compressed
):
    index %= n_in
    flags = sum(flag_bits)
    pub = key.public_key().sec(compressed)
    spk = p2pkh_script(hash160(pub))
    tx = Transaction(
        2,
        [TxIn(OutPoint(bytes([i + 1]) * 32, i), b"", 0xFFFFFFFE - i) for i in range(n_in)],
        [TxOut(1000 * (i + 1), p2pkh_script(bytes([i]) * 20)) for i in range(n_out)],
        7,
    )
    der = key.sign(legacy_sighash(tx, index, spk, hash_type))
    sig = der + bytes([hash_type])
    if mutation == "sig-byte":
        sig = bytearray(sig)
        sig[where % len(sig)] ^= 1 << (where % 8)
        sig = bytes(sig)
    elif mutation == "pub-byte":
        pub = bytearray(pub)
        pub[where % len(pub)] ^= 1 << (where % 8)
        pub = bytes(pub)
    elif mutation == "high-s":
        r, s = decode_der(der)
        sig = encode_der(r, N - s) + bytes([hash_type])
    elif mutation == "other-key":
        pub = KEYS[(KEYS.index(key) + 1) % len(KEYS)].public_key().sec(compressed)
    elif mutation == "uncompressed":
        pub = key.public_key().sec(not compressed)
    elif mutation == "hashtype":
        sig = sig[:-1] + bytes([(hash_type + 1 + where) % 256])
    elif mutation == "tx-changed":
        tx.vout[0].value += 1
    elif mutation == "pad-r":
        r, s = decode_der(der)
        body = b"\x02\x21\x00" + r.to_bytes(32, "big") + encode_der(1, s)[4:]
        sig = b"\x30" + bytes([len(body)]) + body + bytes([hash_type])
    script_sig = push_data(sig) + push_data(pub)
    if mutation == "extra-push":
        script_sig = b"\x51" + script_sig
    elif mutation == "pushdata1":
        script_sig = b"\x4c" + bytes([len(sig)]) + sig + push_data(pub)
    tx.vin[index].script_sig = script_sig
    fast, mine, interp = both(script_sig, spk, tx, index, flags)
    assert mine == interp
    assert not fast or interp == "OK"
    if mutation == "none":
        assert fast == (interp == "OK")  # a valid standard spend does take the fast path


tx_strategy = st.builds(
    Transaction,
    st.integers(-(2**31), 2**31 - 1),
    st.lists(
        st.builds(
            TxIn,
            st.builds(OutPoint, st.binary(min_size=32, max_size=32), st.integers(0, 2**32 - 1)),
            st.binary(max_size=300),
            st.integers(0, 2**32 - 1),
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(
        st.builds(TxOut, st.integers(-(2**63), 2**63 - 1), st.binary(max_size=300)), max_size=3
    ),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=200, deadline=None)
@given(tx=tx_strategy, index=st.integers(0, 3), script_code=st.binary(max_size=60))
def test_sighash_cache_equals_legacy_sighash(tx, index, script_code):
    index %= len(tx.vin)
    expected = legacy_sighash(tx, index, script_code, 1)
    serialized = serialize_script_code(script_code)
    assert SighashCache(tx).digest_all(index, serialized) == expected
    assert SighashCache(tx, tx.serialize_legacy()).digest_all(index, serialized) == expected


def test_an_input_index_out_of_range_is_the_interpreters_error():
    key = KEYS[0]
    pub = key.public_key().sec()
    spk = p2pkh_script(hash160(pub))
    tx = Transaction(1, [TxIn(OutPoint(b"\x01" * 32, 0), b"")], [TxOut(1, spk)], 0)
    # Signed over the digest a missing input 1 would have: no input carries the script code.
    digest = SighashCache(tx).digest_all(1, serialize_script_code(spk))
    script_sig = push_data(key.sign(digest) + b"\x01") + push_data(pub)
    assert not _p2pkh_fast(script_sig, spk, tx, 1, 0, SighashCache(tx))
    with pytest.raises(IndexError):
        verify_input(tx, 1, script_sig, spk, 0)
