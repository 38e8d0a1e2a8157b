"""Every factual finding of the course review of modules 00-06 (§2) stays fixed.

The review (`shared/reviews/course-review-modules-0-6.md`, at commit 16648d2) listed statements
that were wrong, out of date or misleading. Each row below names the finding, the wording that
must be gone and the correction that must be present. Text is compared with whitespace
collapsed, so re-wrapping a paragraph does not hide an old sentence. Static: no kernels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import nbformat
import pytest
from coursekit import COURSE


@dataclass(frozen=True)
class Finding:
    ref: str  # module and number in the review's §2
    module: str
    gone: tuple[str, ...] = ()  # wording that must not appear (whitespace-insensitive)
    present: tuple[str, ...] = ()  # wording of the correction


FINDINGS = [
    Finding(
        "M0.1 genesis scriptSig: 7 bytes push the two numbers, the 8th is the push of the text",
        "00-onboarding",
        gone=("The first 8 bytes push two numbers",),
        present=("7 bytes in all", "0x45"),
    ),
    Finding(
        "M0.2 MAX_MONEY is a bound; the halvings issue 2,099,999,997,690,000 sat",
        "00-onboarding",
        gone=('"21000000.00000000" # all bitcoins ever',),
        present=("MAX_MONEY", "2_099_999_997_690_000", "20,999,999.9769 BTC"),
    ),
    Finding(
        "M0.3 no promise that modules 1-6 start a node",
        "00-onboarding",
        gone=("as a node (later modules)", "Later modules also start the chain as a **node**"),
        present=("Modules 0–6 run everything in-process",),
    ),
    Finding(
        "M0.4 module 6 really teaches OP_TRUE, as module 0 promises",
        "06-transactions-utxo",
        present=("OP_TRUE", "anyone-can-spend"),
    ),
    Finding(
        "M1.1 a signature signs the sighash, not the txid; duplicate txids existed (BIP 30)",
        "01-hashing",
        gone=("a signature over it commits to every byte", "a txid names exactly one transaction"),
        present=("does **not** sign the txid", "BIP 30", "91722"),
    ),
    Finding(
        "M1.2 avalanche does not hide a guessable input (brainwallets)",
        "01-hashing",
        gone=("digests reveal nothing about their input",),
        present=("guessable", "brainwallet", "1JwSSubhmg6iPtRjtyqhUYYH7bZg3Lfy1T"),
    ),
    Finding(
        "M1.3 brute-force costs are averaged over many runs, not one",
        "01-hashing",
        present=("average of many runs",),
    ),
    Finding(
        "M2.1 reversed display comes from reading the hash as a number, not from x86",
        "02-blocks-pow",
        gone=("Two byte-order rules, inherited from the x86 processors",),
        present=("most significant digit first",),
    ),
    Finding(
        "M2.2 light clients, not 'a phone wallet', follow headers",
        "02-blocks-pow",
        gone=("what a phone wallet downloads",),
        present=("light client",),
    ),
    Finding(
        "M3.1 CVE-2012-2459: the harm was a block hash cached as invalid",
        "03-merkle",
        present=("remembered that block hash as invalid",),
    ),
    Finding(
        "M3.2 the 64-byte transaction ambiguity of SPV proofs",
        "03-merkle",
        present=("CVE-2017-12842", "64-byte"),
    ),
    Finding(
        "M3.3 light clients, and most mobile wallets do not do SPV",
        "03-merkle",
        gone=("phone wallet",),
        present=("BIP 157/158",),
    ),
    Finding(
        "M4.1 we sign as RFC 6979 + libsecp256k1; Core also grinds for low R (PR #13666, 0.17)",
        "04-keys-signatures",
        gone=("as Bitcoin Core does",),
        present=("#13666", "low R", "0.17"),
    ),
    Finding(
        "M4.2 'since 0.10' qualified with low-R grinding since 0.17",
        "04-keys-signatures",
        gone=("Bitcoin Core's signatures since version 0.10 (2015), and most wallets'",),
        present=("grinding for a low R since 0.17",),
    ),
    Finding(
        "M4.3 the library does not show every step: learners write the arithmetic",
        "04-keys-signatures",
        gone=("so you can see every step",),
        present=("point_add", "scalar_mul", "You write the curve arithmetic yourself"),
    ),
    Finding(
        "M5.1 WIF heading says typo check, not 'copy safely'",
        "05-addresses",
        gone=("copy safely",),
        present=("a private key with a typo check", "never typed, pasted"),
    ),
    Finding(
        "M5.2 P2PKH makes outputs smaller, spends larger; the second lock needs no reuse",
        "05-addresses",
        gone=("so addresses are short and transactions small",),
        present=("P2PKH *spend* is larger", "never reused"),
    ),
    Finding(
        "M5.3 bech32 is what modern wallets hand out, and where the course decodes it",
        "05-addresses",
        present=("bc1q", "Module 8"),
    ),
    Finding(
        "M6.1 BIP 143 commits only to the signed input's amount; CVE-2020-14199; BIP 341",
        "06-transactions-utxo",
        gone=("added the input value to fix this",),
        present=("CVE-2020-14199", "BIP 341", "amounts of *all* inputs"),
    ),
    Finding(
        "M6.2 the 0.1 sat/vB relay fee shipped in Bitcoin Core 29.1 (4 September 2025)",
        "06-transactions-utxo",
        gone=("0.1 sat/vB since version 30",),
        present=("29.1", "4 September 2025"),
    ),
    Finding(
        "M6.3 a txid is HASH256 of the legacy serialization; SegWit txids leave the witness out",
        "06-transactions-utxo",
        present=("BIP 141",),
    ),
    Finding(
        "M6.4 the five rules miss coinbase maturity and range checks (CVE-2010-5139)",
        "06-transactions-utxo",
        gone=(
            "could neither spend a coin twice, nor create money, nor spend someone else's coins",
        ),
        present=("maturity is not among your rules", "CVE-2010-5139"),
    ),
]


def _flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _notebook_text(module: str) -> str:
    nb = nbformat.read(COURSE / "source" / module / f"{module}.ipynb", as_version=4)
    return _flat("\n".join(cell.source for cell in nb.cells))


def _course_toml_block(module: str) -> str:
    text = (COURSE / "course.toml").read_text(encoding="utf-8")
    blocks = text.split("[[module]]")
    (block,) = [b for b in blocks if f'id = "{module}"' in b]
    return _flat(block)


@pytest.mark.parametrize("finding", FINDINGS, ids=lambda f: f.ref.split()[0])
def test_review_finding_is_fixed(finding: Finding):
    text = _notebook_text(finding.module) + " " + _course_toml_block(finding.module)
    for wrong in finding.gone:
        assert _flat(wrong) not in text, f"{finding.ref}: still says {wrong!r}"
    for right in finding.present:
        assert _flat(right) in text, f"{finding.ref}: the correction {right!r} is missing"


def test_findings_cover_every_module_of_the_review():
    assert {f.module for f in FINDINGS} == {
        p.name for p in (COURSE / "source").iterdir() if p.name < "07"
    }


# ---------------------------------------------------------------- diagrams (M0.5, M2.3)

VERTICAL = set("│├┤┼┬┴┌┐└┘")


def misaligned_boxes(block: str) -> list[str]:
    """Describe every box corner of a text diagram whose vertical edge does not reach the corner
    below it in the same column (the symptom of a label that pushed one border sideways)."""
    lines = block.splitlines()
    problems = []
    for row, line in enumerate(lines):
        for col, char in enumerate(line):
            if char not in "┌┐":
                continue
            closing = "└" if char == "┌" else "┘"
            for below in range(row + 1, len(lines)):
                under = lines[below][col] if col < len(lines[below]) else " "
                if under == closing:
                    break
                if under not in VERTICAL:
                    problems.append(
                        f"line {row + 1}, column {col + 1}: edge broken on line {below + 1}"
                    )
                    break
            else:
                problems.append(f"line {row + 1}, column {col + 1}: box never closes")
    return problems


def test_alignment_checker_finds_a_pushed_border():
    good = "┌──┐\n│ab│\n└──┘"
    bad = "┌──┐\n│abc│\n└──┘"
    assert misaligned_boxes(good) == []
    assert misaligned_boxes(bad) != []


REVIEWED = sorted(
    p.name for p in (COURSE / "source").iterdir() if p.name[:2] in {f"0{i}" for i in range(7)}
)


@pytest.mark.parametrize("module", REVIEWED)
def test_text_diagrams_are_aligned(module):
    nb = nbformat.read(COURSE / "source" / module / f"{module}.ipynb", as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for block in re.findall(r"```[^\n]*\n(.*?)```", cell.source, re.S):
            problems = misaligned_boxes(block)
            assert not problems, f"{module} cell {index}: misaligned diagram: {problems}"
