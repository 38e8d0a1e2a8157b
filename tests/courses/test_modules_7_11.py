"""Modules 07–11: their trusted checks trace back to published sources, and their notebooks keep
the course's habits (a figure, hidden tests announced as such).

`lune course check` proves the solutions satisfy the checks files; these tests prove the checks
files say what the sources say: the whitepaper's tables, BIP vectors, the regulation texts.
Static reads only, no kernels.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from coursekit import COURSE

MODULES = sorted(
    p.name for p in (COURSE / "source").iterdir() if p.is_dir() and "07" <= p.name[:2] <= "11"
)


def _checks(module: str) -> dict:
    return json.loads((COURSE / "checks" / f"{module}.json").read_text())


def _cases(module: str, function: str) -> list[dict]:
    (ex,) = [e for e in _checks(module)["exercises"] if e["function"] == function]
    return ex["cases"]


def _notebook(module: str):
    return nbformat.read(COURSE / "source" / module / f"{module}.ipynb", as_version=4)


def test_the_new_modules_are_in_the_course():
    assert MODULES[:1] == ["07-nodes-consensus"]


@pytest.mark.parametrize("module", MODULES)
def test_every_exercise_has_sourced_cases_and_matching_cells(module):
    spec = _checks(module)
    assert spec["module"] == module
    nb = _notebook(module)
    grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    assert len(spec["exercises"]) >= 3
    for ex in spec["exercises"]:
        fn = ex["function"]
        assert ex["cells"] == [f"{fn}_visible", f"{fn}_hidden"]
        assert set(ex["cells"]) <= grade_ids
        assert len(ex["cases"]) >= 3, fn
        assert all(case.get("source") for case in ex["cases"]), fn


@pytest.mark.parametrize("module", MODULES)
def test_hidden_tests_say_they_run_only_at_grading_and_a_figure_is_drawn(module):
    nb = _notebook(module)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_hidden"):
            visible_part = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            assert "run only at grading" in visible_part, f"{module}: {grade_id}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert re.search(r"display\(\s*SVG\(", code), f"{module}: no figure drawn"


# --- module 07 -------------------------------------------------------------------------------

# S. Nakamoto, "Bitcoin: A Peer-to-Peer Electronic Cash System" (2008), §11, as printed.
WHITEPAPER_Q = {
    0.1: {0: 1.0, 1: 0.2045873, 2: 0.0509779, 3: 0.0131722, 4: 0.0034552, 5: 0.0009137},
    0.3: {0: 1.0, 5: 0.1773523, 10: 0.0416605, 15: 0.0101008, 20: 0.0024804, 35: 0.0000379},
}
WHITEPAPER_Z = {0.10: 5, 0.15: 8, 0.20: 11, 0.25: 15, 0.30: 24, 0.35: 41, 0.40: 89, 0.45: 340}


def test_module7_attacker_cases_are_the_whitepaper_tables():
    for case in _cases("07-nodes-consensus", "attacker_success"):
        q, z = case["args"]
        if q < 0.5:
            assert WHITEPAPER_Q[q][z] == case["expected"]
        else:
            assert case["expected"] == 1.0
    for case in _cases("07-nodes-consensus", "min_confirmations"):
        assert WHITEPAPER_Z[case["args"][0]] == case["expected"]


def test_module7_block_work_cases_match_published_chainwork():
    cases = {c["args"][0]: c["expected"] for c in _cases("07-nodes-consensus", "block_work")}
    # Bitcoin Core getblockheader: mainnet genesis chainwork 0x100010001, regtest genesis 0x02.
    assert cases[0x1D00FFFF] == 0x100010001
    assert cases[0x207FFFFF] == 2
    # A harder target is worth more work.
    assert cases[0x1D00D86A] > cases[0x1D00FFFF]


def test_module7_network_outcomes_follow_most_work():
    for case in _cases("07-nodes-consensus", "partition_and_reconnect"):
        a, b = case["args"]
        want = case["expected"]
        assert want["agree"] is (a != b)
        assert want["heights"] == [10 + max(a, b)] * 2
        assert want["branches"] == (["a", "a"] if a > b else ["b", "b"] if b > a else ["a", "b"])
        assert want["reorg_depths"] == [a if b > a else 0, b if a > b else 0]


# --- module 08 -------------------------------------------------------------------------------


def test_module8_mnemonics_are_bip39_vectors(vectors):
    rows = json.loads((vectors / "bip39" / "vectors.json").read_text())
    published = {(lang, e): m for lang in ("english", "french") for e, m, _, _ in rows[lang]}
    for case in _cases("08-wallets", "entropy_to_mnemonic"):
        entropy, language = case["args"]
        assert published[(language, entropy["$bytes"])] == case["expected"]


def _keys_and_chains(vectors) -> set[tuple[str, str]]:
    """(private key hex, chain code hex) of every ext_prv of the BIP-32 vectors (Base58 read)."""
    from sandbox_chain.encoding import b58check_decode

    found = set()
    for tv in json.loads((vectors / "bips" / "bip32_vectors.json").read_text())["valid"]:
        for chain in tv["chains"]:
            raw = b58check_decode(chain["ext_prv"])
            found.add((raw[46:78].hex(), raw[13:45].hex()))
    return found


def test_module8_key_derivation_cases_are_bip32_vectors(vectors):
    published = _keys_and_chains(vectors)
    keys = {k for k, _ in published}
    for case in _cases("08-wallets", "ckd_priv"):
        key, chain, _ = case["args"]
        assert (key["$bytes"], chain["$bytes"]) in published
        assert tuple(v["$bytes"] for v in case["expected"]) in published
    for case in _cases("08-wallets", "parent_private_key"):
        assert case["expected"]["$bytes"] in keys
        assert case["args"][3] < 2**31  # the attack needs a normal (non-hardened) child


def test_module8_bech32_cases_are_bip_vectors(vectors):
    bips = json.loads((vectors / "bips" / "bech32_vectors.json").read_text())
    kinds = {}
    for bip, key, kind in [
        ("bip173", "valid_bech32", "bech32"),
        ("bip350", "valid_bech32m", "bech32m"),
        ("bip173", "invalid_bech32", "invalid"),
        ("bip350", "invalid_bech32m", "invalid"),
    ]:
        kinds.update({row["string"]: kind for row in bips[bip][key]})
    for row in bips["bip350"]["valid_segwit_addresses"]:
        kinds[row["address"]] = "bech32" if row["scriptPubKey"][:2] == "00" else "bech32m"
    for row in bips["bip350"]["invalid_segwit_addresses"]:
        if "Bech32 instead of Bech32m" in row["reason"]:
            kinds[row["address"]] = "bech32"
    for case in _cases("08-wallets", "bech32_kind"):
        assert kinds[case["args"][0]] == case["expected"], case["args"][0]


# --- module 09 -------------------------------------------------------------------------------


def test_module9_missing_words_come_from_bip39_vectors(vectors):
    from sandbox_chain.bip32 import ExtendedKey

    rows = json.loads((vectors / "bip39" / "vectors.json").read_text())["english"]
    fingerprints = {ExtendedKey.parse(xprv).fingerprint().hex(): m for _, m, _, xprv in rows}
    for case in _cases("09-custody-security", "recover_word"):
        words, position, fingerprint, passphrase = case["args"]
        if passphrase == "TREZOR":
            sentence = fingerprints[fingerprint].split()
            assert sentence[position] == case["expected"]
            assert words[:position] + words[position + 1 :] == (
                sentence[:position] + sentence[position + 1 :]
            )


def test_module9_shamir_shares_are_wikipedias_polynomial():
    for case in _cases("09-custody-security", "combine_shares"):
        shares, prime = case["args"]
        if prime == 1613:
            assert all(y == (1234 + 166 * x + 94 * x * x) % 1613 for x, y in shares)
            assert case["expected"] == 1234


# --- module 10 -------------------------------------------------------------------------------


def test_module10_every_case_cites_its_article():
    for ex in _checks("10-regulation-fr-eu")["exercises"]:
        for case in ex["cases"]:
            assert re.search(r"\bart\. [LR]?\.?\d", case["source"]), (ex["function"], case)


def test_module10_mica_letters_are_the_ten_services():
    letters = {
        letter
        for case in _cases("10-regulation-fr-eu", "casp_services")
        for letter in case["expected"]
    }
    assert letters <= set("abcdefghij")


# --- module 11 -------------------------------------------------------------------------------


def test_module11_capstone_outcomes_follow_the_fee_rule():
    for case in _cases("11-careers-capstone", "capstone_payment"):
        _, _, amount, fee_rate = case["args"]
        want = case["expected"]
        # Two 50 BTC coins; 374 bytes is 10 + 2 x 148 + 2 x 34 (Core's P2PKH estimate).
        assert want["fee"] == fee_rate * 374
        assert want["paid"] + want["change"] + want["fee"] == 2 * 50 * 10**8
        assert (want["inputs"], want["outputs"], want["confirmations"]) == (2, 2, 1)


def test_module11_single_document_anchor_is_nists_digest():
    (case,) = [c for c in _cases("11-careers-capstone", "anchor_script") if len(c["args"][0]) == 1]
    # NIST FIPS 180-2: SHA-256 of the empty message.
    assert case["expected"]["$bytes"] == (
        "6a20e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_neutrality_policy_is_stated():
    text = "\n".join(c.source for c in _notebook("11-careers-capstone").cells)
    assert "no exchange account" in text.lower() and "no referral" in text.lower()
