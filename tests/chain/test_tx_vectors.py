"""Bitcoin Core's tx_valid.json and tx_invalid.json, for the cases inside the sandbox subset.

Each case is `[[prevout txid, prevout index, prevout scriptPubKey, amount?]...], tx, flags]`.
As in Core's transaction_tests.cpp:
  * tx_valid: `check_transaction` passes and every input verifies with all flags *except*
    the listed ones (here: all flags the interpreter implements, minus the listed ones);
  * tx_invalid: flags "BADTX" mean `check_transaction` must fail; otherwise it passes and
    script verification with exactly the listed flags must fail for at least one input.

Counts (asserted below, so they cannot drift silently):
  tx_valid.json   — 121 cases: 81 run; 40 skipped (29 witness, 11 p2sh). Each run case is
                    also re-run without each flag (must stay valid) and with each excluded
                    flag added back (must fail: 87 such checks), as Core's test does.
  tx_invalid.json — 93 cases: 71 run (9 BADTX caught by `check_transaction`, 62 by script
                    verification); 22 skipped (14 flags, 7 p2sh, 1 witness). Each run case
                    must also stay invalid with any one more flag.
Skipped cases, and why:
  * "witness": the transaction carries segwit witness data, or spends a witness program with
    WITNESS applied: segwit is outside the subset;
  * "p2sh": an input spends a P2SH output with the P2SH flag applied (BIP-16 redemption is
    outside the subset; with P2SH excluded such outputs are bare hash-locks and do run);
  * "flags": tx_invalid asks for a flag the interpreter does not implement (WITNESS,
    DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM...): its failure may depend on it;
"""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox_chain.block import Block
from sandbox_chain.errors import ParseError, ScriptError, ValidationError
from sandbox_chain.script import (
    FLAG_NAMES,
    MANDATORY_FLAGS,
    SCRIPT_VERIFY_NONE,
    STANDARD_FLAGS,
    classify,
    script_from_asm,
    verify_script,
)
from sandbox_chain.transaction import Transaction
from sandbox_chain.validation import check_transaction

ALL_FLAGS = 0
for _bit in FLAG_NAMES.values():
    ALL_FLAGS |= _bit


def _is_p2sh(spk: bytes) -> bool:
    return len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[-1] == 0x87


def _is_witness_program(spk: bytes) -> bool:
    # A version opcode (OP_0, OP_1..OP_16) then one push of 2 to 40 bytes (BIP-141).
    return (
        4 <= len(spk) <= 42 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] + 2 == len(spk)
    )


def _prevouts(rows_prevouts) -> dict[tuple[bytes, int], bytes]:
    out = {}
    for entry in rows_prevouts:
        txid = bytes.fromhex(entry[0])[::-1]
        out[(txid, entry[1] & 0xFFFFFFFF)] = script_from_asm(entry[2])
    return out


def classify_case(row, *, valid: bool):
    """Return (reason to skip or None, tx, prevouts, flags, flag names)."""
    prevouts = _prevouts(row[0])
    names = [n for n in row[2].split(",") if n]
    try:
        tx = Transaction.from_hex(row[1])
    except ParseError as exc:  # every vector parses; a failure here is a parser bug
        raise AssertionError(f"vector does not parse: {row[1][:40]}") from exc
    if valid:
        flags = ALL_FLAGS
        applied = (set(FLAG_NAMES) | {"WITNESS"}) - set(names)  # Core's "all" includes WITNESS
        for name in names:
            flags &= ~FLAG_NAMES.get(name, 0)
    else:
        if names != ["BADTX"] and any(n not in FLAG_NAMES for n in names):
            return "flags", tx, prevouts, 0, names
        flags = 0
        for name in names:
            flags |= FLAG_NAMES.get(name, 0)
        applied = set(names)
    if tx.has_witness():
        return "witness", tx, prevouts, flags, names
    spks = list(prevouts.values())
    if "WITNESS" in applied and any(_is_witness_program(s) for s in spks):
        return "witness", tx, prevouts, flags, names
    if "P2SH" in applied and any(_is_p2sh(s) for s in spks):
        return "p2sh", tx, prevouts, flags, names
    return None, tx, prevouts, flags, names


def scripts_verify(tx: Transaction, prevouts, flags: int) -> str | None:
    """None if every input verifies, else the first failure's code."""
    for index, txin in enumerate(tx.vin):
        spk = prevouts.get((txin.prevout.txid, txin.prevout.vout))
        if spk is None:
            return "missing-prevout"
        try:
            verify_script(txin.script_sig, spk, tx, index, flags)
        except ScriptError as exc:
            return exc.code
    return None


def cases_inside_the_subset(rows, *, valid: bool, skipped: Counter):
    """Yield (row, tx, prevouts, flags, flag names) of each runnable case; count the others."""
    for row in rows:
        reason, tx, prevouts, flags, names = classify_case(row, valid=valid)
        if reason:
            skipped[reason] += 1
        else:
            yield row, tx, prevouts, flags, names


def test_tx_valid_cases_inside_the_subset(core_vectors):
    ran, skipped, failures = 0, Counter(), []
    maximal_checks = 0
    cases = cases_inside_the_subset(core_vectors("tx_valid.json"), valid=True, skipped=skipped)
    for row, tx, prevouts, flags, names in cases:
        ran += 1
        try:
            check_transaction(tx)
        except ValidationError as exc:
            failures.append((row[1][:40], exc.reason))
            continue
        code = scripts_verify(tx, prevouts, flags)
        if code is not None:
            failures.append((row[1][:40], code))
            continue
        # Removing any one flag never invalidates a valid transaction (soft-fork safety).
        for bit in FLAG_NAMES.values():
            if flags & bit and (code := scripts_verify(tx, prevouts, flags & ~bit)):
                failures.append((row[1][:40], f"without flag {bit:#x}: {code}"))
        # The excluded flags are maximal: adding one back makes the transaction fail, so each
        # of our flags rejects what Core's does.
        for name in names:
            if (
                FLAG_NAMES.get(name)
                and scripts_verify(tx, prevouts, flags | FLAG_NAMES[name]) is None
            ):
                failures.append((row[1][:40], f"still valid with {name}"))
            maximal_checks += name in FLAG_NAMES and name != "NONE"
    assert failures == []
    print(f"tx_valid: ran {ran}, skipped {dict(skipped)}, {maximal_checks} flag re-additions")
    assert maximal_checks == 87
    assert (ran, skipped) == (EXPECTED_VALID_RAN, EXPECTED_VALID_SKIPPED)


def test_tx_invalid_cases_inside_the_subset(core_vectors):
    ran, skipped, failures = 0, Counter(), []
    outcomes = Counter()
    cases = cases_inside_the_subset(core_vectors("tx_invalid.json"), valid=False, skipped=skipped)
    for row, tx, prevouts, flags, names in cases:
        ran += 1
        try:
            check_transaction(tx)
        except ValidationError as exc:
            outcomes[exc.reason] += 1
            if names != ["BADTX"]:
                failures.append((row[1][:40], "unexpected " + exc.reason))
            continue
        if names == ["BADTX"]:
            failures.append((row[1][:40], "check_transaction passed"))
            continue
        code = scripts_verify(tx, prevouts, flags)
        if code is None:
            failures.append((row[1][:40], "scripts verified"))
        outcomes[code] += 1
        # Adding any flag never makes an invalid transaction valid.
        for bit in FLAG_NAMES.values():
            if scripts_verify(tx, prevouts, flags | bit) is None:
                failures.append((row[1][:40], f"valid with flag {bit:#x} added"))
    assert failures == []
    print(f"tx_invalid: ran {ran}, skipped {dict(skipped)}, outcomes {dict(outcomes)}")
    assert sum(n for reason, n in outcomes.items() if reason.startswith("bad-")) == 9
    assert (ran, skipped) == (EXPECTED_INVALID_RAN, EXPECTED_INVALID_SKIPPED)


EXPECTED_VALID_RAN, EXPECTED_VALID_SKIPPED = 81, Counter(witness=29, p2sh=11)
EXPECTED_INVALID_RAN, EXPECTED_INVALID_SKIPPED = 71, Counter(flags=14, p2sh=7, witness=1)


# --- real data: the first person-to-person payment ---------------------------------------------


def _block(vectors, height: int) -> Block:
    return Block.parse(bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text().strip()))


def test_block_170_spend_of_block_9_coinbase_verifies(vectors):
    coinbase_9 = _block(vectors, 9).txs[0]
    spend = _block(vectors, 170).txs[1]
    assert spend.vin[0].prevout.txid == coinbase_9.txid()
    prev_spk = coinbase_9.vout[spend.vin[0].prevout.vout].script_pubkey
    kind, sec = classify(prev_spk)
    assert kind == "p2pk" and len(sec) == 65  # Satoshi's uncompressed key, pay-to-pubkey
    # 2009 rules, and today's consensus and policy rules: the signature satisfies them all.
    for flags in (SCRIPT_VERIFY_NONE, MANDATORY_FLAGS, STANDARD_FLAGS):
        verify_script(spend.vin[0].script_sig, prev_spk, spend, 0, flags)


def test_block_170_spend_fails_when_altered(vectors):
    coinbase_9 = _block(vectors, 9).txs[0]
    spend = _block(vectors, 170).txs[1]
    prev_spk = coinbase_9.vout[0].script_pubkey
    spend.vout[0].value = 50 * 10**8  # Hal Finney getting all of it is not what was signed
    with pytest.raises(ScriptError) as err:
        verify_script(spend.vin[0].script_sig, prev_spk, spend, 0, MANDATORY_FLAGS)
    assert err.value.code == "EVAL_FALSE"
    # Another output script (block 170's own coinbase key) does not accept this signature either.
    other_spk = _block(vectors, 170).txs[0].vout[0].script_pubkey
    with pytest.raises(ScriptError):
        verify_script(spend.vin[0].script_sig, other_spk, _block(vectors, 170).txs[1], 0, 0)
