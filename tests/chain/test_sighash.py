"""Legacy signature hash against every case of Bitcoin Core's sighash.json."""

from __future__ import annotations

import pytest

from sandbox_chain.hashes import hash160
from sandbox_chain.keys import PrivateKey, verify_signature
from sandbox_chain.script import p2pk_script, p2pkh_script
from sandbox_chain.sighash import (
    SIGHASH_ALL,
    SIGHASH_ANYONECANPAY,
    SIGHASH_NONE,
    SIGHASH_ONE,
    SIGHASH_SINGLE,
    legacy_sighash,
    serialize_script_code,
    sign_p2pk_input,
    sign_p2pkh_input,
)
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut


def test_every_core_sighash_vector(core_vectors):
    cases = core_vectors("sighash.json")
    assert len(cases) == 500  # the file's 500 cases, after its one header row
    kinds = set()
    for raw_tx, script_hex, index, hash_type, expected in cases:
        tx = Transaction.from_hex(raw_tx)
        digest = legacy_sighash(tx, index, bytes.fromhex(script_hex), hash_type)
        # The file shows the digest as Core's uint256::GetHex: byte-reversed.
        assert digest[::-1].hex() == expected, (raw_tx[:16], index, hash_type)
        kinds.add((hash_type & 0x1F, bool(hash_type & SIGHASH_ANYONECANPAY)))
    assert {(SIGHASH_NONE, True), (SIGHASH_SINGLE, True), (SIGHASH_ALL, False)} <= kinds


def test_single_without_matching_output_signs_the_number_one(core_vectors):
    # sighash.json has no such case; tx_valid.json's "bug in the handling of SIGHASH_SINGLE"
    # case does: input 1 of a 1-output transaction carries a real signature of the number 1.
    rows = core_vectors("tx_valid.json")
    prevouts, raw_tx, _ = next(r for r in rows if r[0][0][0].endswith("0200") and len(r[0]) == 2)
    tx = Transaction.from_hex(raw_tx)
    assert len(tx.vin) == 2 and len(tx.vout) == 1
    script_sig = tx.vin[1].script_sig
    sig = script_sig[1 : 1 + script_sig[0]]
    pub = script_sig[2 + script_sig[0] :]
    assert sig[-1] == SIGHASH_SINGLE
    prev_spk = p2pkh_script(bytes.fromhex("e52b482f2faa8ecbf0db344f93c84ac908557f33"))
    assert "e52b482f2faa8ecbf0db344f93c84ac908557f33" in prevouts[1][2]
    digest = legacy_sighash(tx, 1, prev_spk, SIGHASH_SINGLE)
    assert digest == SIGHASH_ONE == (1).to_bytes(32, "little")
    assert verify_signature(pub, sig[:-1], digest)
    # Input 0 has a matching output, so the same hash type signs the transaction there.
    assert legacy_sighash(tx, 0, prev_spk, SIGHASH_SINGLE) != SIGHASH_ONE


def test_code_separators_are_removed_from_the_script_code():
    # OP_1 OP_CODESEPARATOR OP_2 OP_CODESEPARATOR: 4 bytes, 2 separators -> "\x02" 51 52
    assert serialize_script_code(bytes.fromhex("51ab52ab")) == bytes.fromhex("025152")
    # A separator inside a push is data, not an opcode.
    assert serialize_script_code(bytes.fromhex("01ab")) == bytes.fromhex("0201ab")


def test_input_index_out_of_range_is_refused():
    tx = _tx()
    with pytest.raises(IndexError):
        legacy_sighash(tx, 1, b"", SIGHASH_ALL)


def _tx() -> Transaction:
    return Transaction(
        1, [TxIn(OutPoint(b"\x22" * 32, 0), b"")], [TxOut(4_000, p2pkh_script(b"\x01" * 20))], 0
    )


@pytest.mark.parametrize("compressed", [True, False])
def test_sign_p2pkh_input_picks_the_key_form_the_output_commits_to(compressed):
    key = PrivateKey.from_int(0xC0FFEE)
    sec = key.public_key().sec(compressed)
    prev = p2pkh_script(hash160(sec))
    tx = _tx()
    script_sig = sign_p2pkh_input(tx, 0, key, prev)
    assert tx.vin[0].script_sig == script_sig
    assert script_sig.endswith(sec)
    sig = script_sig[1 : 1 + script_sig[0]]
    assert sig[-1] == SIGHASH_ALL
    assert verify_signature(sec, sig[:-1], legacy_sighash(tx, 0, prev, SIGHASH_ALL))


def test_sign_p2pkh_input_refuses_a_foreign_output():
    with pytest.raises(ValueError, match="does not match"):
        sign_p2pkh_input(_tx(), 0, PrivateKey.from_int(5), p2pkh_script(b"\x09" * 20))
    with pytest.raises(ValueError, match="not p2pkh"):
        sign_p2pkh_input(_tx(), 0, PrivateKey.from_int(5), b"\x51")


def test_sign_p2pk_input():
    key = PrivateKey.from_int(7)
    prev = p2pk_script(key.public_key().sec())
    tx = _tx()
    script_sig = sign_p2pk_input(tx, 0, key, prev, SIGHASH_NONE | SIGHASH_ANYONECANPAY)
    sig = script_sig[1:]
    assert sig[-1] == 0x82
    digest = legacy_sighash(tx, 0, prev, 0x82)
    assert verify_signature(key.public_key().sec(), sig[:-1], digest)
