"""Pure validation functions, checked against Bitcoin Core's vectors and real mainnet blocks."""

from __future__ import annotations

import pytest
from vectorlib import load_json_vectors

from sandbox_chain.block import Block
from sandbox_chain.errors import ValidationError
from sandbox_chain.params import MAINNET, REGTEST
from sandbox_chain.transaction import Transaction
from sandbox_chain.utxo import Coin, CoinsViewCache, MemoryCoins, parse_undo, serialize_undo
from sandbox_chain.validation import (
    COIN,
    bip34_height_script,
    block_subsidy,
    check_block,
    check_transaction,
    connect_block,
    disconnect_block,
    is_final_tx,
    legacy_sigop_count,
    median_time_past,
)


def _badtx_cases(vectors):
    rows = load_json_vectors(vectors / "bitcoin-core" / "tx_invalid.json")
    return [r for r in rows if r[2] == "BADTX"]


def test_core_badtx_vectors_fail_check_transaction(vectors):
    """All 9 BADTX cases of Core's tx_invalid.json fail CheckTransaction."""
    cases = _badtx_cases(vectors)
    assert len(cases) == 9
    reasons = set()
    for _, raw, _ in cases:
        with pytest.raises(ValidationError) as err:
            check_transaction(Transaction.parse(bytes.fromhex(raw)))
        reasons.add(err.value.reason)
    assert reasons == {
        "bad-txns-vout-empty",
        "bad-txns-vout-negative",
        "bad-txns-vout-toolarge",
        "bad-txns-txouttotal-toolarge",
        "bad-txns-inputs-duplicate",
        "bad-cb-length",
        "bad-txns-prevout-null",
    }


def test_core_valid_vectors_pass_check_transaction(vectors):
    rows = load_json_vectors(vectors / "bitcoin-core" / "tx_valid.json")
    assert len(rows) > 100
    for _, raw, _ in rows:
        check_transaction(Transaction.parse(bytes.fromhex(raw)))


@pytest.mark.parametrize("height", [0, 9, 170, 100000])
def test_real_mainnet_blocks_pass_check_block(vectors, height):
    block = Block.parse(bytes.fromhex((vectors / "blocks" / f"{height}.hex").read_text().strip()))
    checked = check_block(block, MAINNET)
    assert checked.hash == block.hash()
    assert checked.txids == [tx.txid() for tx in block.txs]


def test_real_block_with_a_flipped_bit_is_rejected(vectors):
    raw = bytearray(bytes.fromhex((vectors / "blocks" / "170.hex").read_text().strip()))
    raw[-5] ^= 1  # inside the last transaction: the Merkle root no longer matches
    with pytest.raises(ValidationError) as err:
        check_block(Block.parse(bytes(raw)), MAINNET, check_pow=True)
    assert err.value.reason == "bad-txnmrklroot" and err.value.corrupted


@pytest.mark.parametrize(
    ("height", "expected"),
    [
        (0, "00"),
        (1, "51"),
        (16, "60"),
        (17, "0111"),
        (127, "017f"),
        (128, "028000"),
        (255, "02ff00"),
        (256, "020001"),
        (32768, "03008000"),
        (227931, "035b7a03"),
    ],
)
def test_bip34_height_encoding(height, expected):
    """CScript() << height, as Core serializes it (227931 is mainnet's BIP34 activation block)."""
    assert bip34_height_script(height).hex() == expected


def test_subsidy_halves():
    assert block_subsidy(0, MAINNET) == 50 * COIN
    assert block_subsidy(209_999, MAINNET) == 50 * COIN
    assert block_subsidy(210_000, MAINNET) == 25 * COIN
    assert block_subsidy(630_000, MAINNET) == 625_000_000
    assert block_subsidy(64 * 210_000, MAINNET) == 0
    assert block_subsidy(REGTEST.subsidy_halving_interval, REGTEST) == 25 * COIN


def test_median_time_past_uses_last_eleven():
    assert median_time_past([5, 1, 3]) == 3
    assert median_time_past(list(range(100, 0, -1))) == 6  # last 11 are 11..1 reversed


def test_finality_by_height_time_and_sequence():
    tx = Transaction.parse(bytes.fromhex(_badtx_cases_free_tx()))
    tx.locktime = 100
    tx.vin[0].sequence = 0
    assert not is_final_tx(tx, 100, 0) and is_final_tx(tx, 101, 0)
    tx.locktime = 600_000_000  # a time
    assert not is_final_tx(tx, 10**6, 600_000_000) and is_final_tx(tx, 0, 600_000_001)
    tx.vin[0].sequence = 0xFFFFFFFF
    assert is_final_tx(tx, 0, 0)


def _badtx_cases_free_tx() -> str:
    # One input, one output; values do not matter for finality.
    return (
        "0100000001"
        + "00" * 32
        + "00000000"
        + "00"
        + "ffffffff"
        + "01"
        + "00" * 8
        + "0151"
        + "00000000"
    )


def test_legacy_sigop_count():
    assert legacy_sigop_count(bytes.fromhex("76a914" + "00" * 20 + "88ac")) == 1
    assert legacy_sigop_count(b"\xae") == 20
    assert legacy_sigop_count(b"\x02\xac\xac\xac") == 1  # the pushed bytes are not opcodes
    assert legacy_sigop_count(b"\x4c") == 0  # truncated push: stop, as Core does


def test_undo_round_trip_and_disconnect_restores_exactly(vectors):
    """Connect a real block over a view holding its inputs, then disconnect it."""
    block = Block.parse(bytes.fromhex((vectors / "blocks" / "170.hex").read_text().strip()))
    checked = check_block(block, MAINNET)
    spent_key = (block.txs[1].vin[0].prevout.txid, block.txs[1].vin[0].prevout.vout)
    base = MemoryCoins()
    # Block 9's coinbase: 50 BTC to Satoshi's key, spent by the first person-to-person payment.
    block9 = Block.parse(bytes.fromhex((vectors / "blocks" / "9.hex").read_text().strip()))
    base.set(spent_key, Coin(50 * COIN, block9.txs[0].vout[0].script_pubkey, 9, True))
    before = dict(base.coins)
    view = CoinsViewCache(base)
    undo, fees = connect_block(checked, 170, view, MAINNET, flags=0)
    assert fees == 0 and undo == [before[spent_key]]
    assert parse_undo(serialize_undo(undo)) == undo
    view.flush_into(base)
    assert spent_key not in base.coins and len(base) == 3
    view = CoinsViewCache(base)
    disconnect_block(block, checked.txids, undo, view)
    view.flush_into(base)
    assert base.coins == before
