"""Consensus checks for transactions and blocks, with Bitcoin Core's reject reasons.

Follows Bitcoin Core `consensus/tx_check.cpp` (`CheckTransaction`), `consensus/tx_verify.cpp`
(`IsFinalTx`, `CheckTxInputs`, `GetLegacySigOpCount`) and `validation.cpp` (`CheckBlockHeader`,
`CheckBlock`, `ContextualCheckBlockHeader`, `ContextualCheckBlock`, `ConnectBlock`,
`DisconnectBlock`, `CheckInputScripts`, `GetBlockSubsidy`). The checks run in Core's order, so
a block with several faults reports the same first reason as Core would.

Every function here is pure: it reads a coins view and writes only into the view it is given.
The chain state (`chainstate.py`) decides what to store.

Not implemented (outside the legacy subset the sandbox validates): segwit, P2SH, BIP68
relative lock-times and BIP30's duplicate-txid check (BIP34 coinbase heights make duplicates
impossible on our networks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .block import Block, BlockHeader, merkle_root
from .checkqueue import SignatureChecks
from .encoding import encode_varint
from .errors import ScriptError, ValidationError
from .hashes import hash256
from .input_check import SighashCache, verify_input
from .interpreter import verify_script
from .params import COIN, NetworkParams
from .pow import check_proof_of_work
from .transaction import Transaction
from .utxo import Coin, CoinsViewCache

MAX_MONEY = 21_000_000 * COIN
WITNESS_SCALE_FACTOR = 4
MAX_BLOCK_WEIGHT = 4_000_000
MAX_BLOCK_SIGOPS_COST = 80_000
LOCKTIME_THRESHOLD = 500_000_000  # below: a block height; at or above: a UNIX time
SEQUENCE_FINAL = 0xFFFFFFFF
MEDIAN_TIME_SPAN = 11

_OP_PUSHDATA1, _OP_PUSHDATA2, _OP_PUSHDATA4 = 0x4C, 0x4D, 0x4E
_OP_CHECKSIG, _OP_CHECKSIGVERIFY = 0xAC, 0xAD
_OP_CHECKMULTISIG, _OP_CHECKMULTISIGVERIFY = 0xAE, 0xAF
_MAX_PUBKEYS_PER_MULTISIG = 20


def money_range(value: int) -> bool:
    """Core's `MoneyRange`: 0 ≤ value ≤ MAX_MONEY."""
    return 0 <= value <= MAX_MONEY


# --- context-free checks -------------------------------------------------------------------


def check_transaction(tx: Transaction, legacy_size: int | None = None) -> None:
    """Rules a transaction must meet on its own (`CheckTransaction`); raise `ValidationError`.

    `legacy_size` (the size without witness) may be passed when the caller already serialized it.
    """
    if not tx.vin:
        raise ValidationError("bad-txns-vin-empty")
    if not tx.vout:
        raise ValidationError("bad-txns-vout-empty")
    if legacy_size is None:
        legacy_size = len(tx.serialize_legacy())
    if legacy_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT:
        raise ValidationError("bad-txns-oversize")
    total = 0
    for txout in tx.vout:
        if txout.value < 0:
            raise ValidationError("bad-txns-vout-negative")
        if txout.value > MAX_MONEY:
            raise ValidationError("bad-txns-vout-toolarge")
        total += txout.value
        if not money_range(total):
            raise ValidationError("bad-txns-txouttotal-toolarge")
    seen: set[tuple[bytes, int]] = set()
    for txin in tx.vin:
        key = (txin.prevout.txid, txin.prevout.vout)
        if key in seen:
            raise ValidationError("bad-txns-inputs-duplicate")
        seen.add(key)
    if tx.is_coinbase():
        if not 2 <= len(tx.vin[0].script_sig) <= 100:
            raise ValidationError("bad-cb-length")
    else:
        for txin in tx.vin:
            if txin.prevout.is_null():
                raise ValidationError("bad-txns-prevout-null")


def legacy_sigop_count(script: bytes) -> int:
    """Core's `GetSigOpCount(false)`: CHECKSIG counts 1, CHECKMULTISIG counts 20.

    Stops silently at a truncated push, as Core does.
    """
    n = len(script)
    if (
        n == 25
        and script[0] == 0x76  # the P2PKH template DUP HASH160 <20> EQUALVERIFY CHECKSIG
        and script[1] == 0xA9
        and script[2] == 20
        and script[23] == 0x88
        and script[24] == _OP_CHECKSIG
    ):
        return 1
    count, i = 0, 0
    while i < n:
        op = script[i]
        i += 1
        if op < _OP_PUSHDATA1:
            i += op
        elif op < _OP_CHECKSIG and op > _OP_PUSHDATA4:
            continue  # neither a push with a length field nor a sigop
        elif op == _OP_PUSHDATA1:
            if i + 1 > n:
                break
            i += 1 + script[i]
        elif op == _OP_PUSHDATA2:
            if i + 2 > n:
                break
            i += 2 + int.from_bytes(script[i : i + 2], "little")
        elif op == _OP_PUSHDATA4:
            if i + 4 > n:
                break
            i += 4 + int.from_bytes(script[i : i + 4], "little")
        elif op in (_OP_CHECKSIG, _OP_CHECKSIGVERIFY):
            count += 1
        elif op in (_OP_CHECKMULTISIG, _OP_CHECKMULTISIGVERIFY):
            count += _MAX_PUBKEYS_PER_MULTISIG
    return count


def tx_legacy_sigops(tx: Transaction) -> int:
    """Sigops of a transaction's scriptSigs and scriptPubKeys (`GetLegacySigOpCount`)."""
    count = 0
    for txin in tx.vin:
        count += legacy_sigop_count(txin.script_sig)
    for txout in tx.vout:
        count += legacy_sigop_count(txout.script_pubkey)
    return count


def check_block_header(header: BlockHeader, params: NetworkParams) -> bytes:
    """Proof of work matches the claimed bits (`CheckBlockHeader`); return the block hash."""
    block_hash = header.hash()
    if not check_proof_of_work(block_hash, header.bits, params):
        raise ValidationError("high-hash", "proof of work failed")
    return block_hash


@dataclass
class CheckedBlock:
    """What `check_block` computed and later steps reuse (no re-hashing, no re-serializing)."""

    block: Block
    hash: bytes
    txids: list[bytes]
    legacy_size: int
    tx_raws: list[bytes]  # each transaction's legacy serialization

    def serialize(self) -> bytes:
        """The block's bytes, assembled from the pieces already serialized."""
        if any(tx.has_witness() for tx in self.block.txs):
            return self.block.serialize()
        return b"".join(
            [self.block.header.serialize(), encode_varint(len(self.tx_raws)), *self.tx_raws]
        )


def check_block(block: Block, params: NetworkParams, *, check_pow: bool = True) -> CheckedBlock:
    """Rules a block must meet on its own (`CheckBlock`); raise `ValidationError`.

    A wrong Merkle root or a duplicated-transaction mutation raises with `corrupted=True`:
    the header may be honest and only the body damaged, so the header must not be blacklisted.
    """
    block_hash = check_block_header(block.header, params) if check_pow else block.hash()
    raws = [tx.serialize_legacy() for tx in block.txs]
    txids = [hash256(raw) for raw in raws]
    root, mutated = merkle_root(txids) if txids else (bytes(32), False)
    if root != block.header.merkle_root:
        raise ValidationError("bad-txnmrklroot", "hashMerkleRoot mismatch", corrupted=True)
    if mutated:
        raise ValidationError("bad-txns-duplicate", "duplicate transaction", corrupted=True)
    n = len(block.txs)
    legacy_size = 80 + len(encode_varint(n)) + sum(len(r) for r in raws)
    if (
        n == 0
        or n * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
        or legacy_size * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT
    ):
        raise ValidationError("bad-blk-length", "size limits failed")
    if not block.txs[0].is_coinbase():
        raise ValidationError("bad-cb-missing", "first tx is not coinbase")
    for tx in block.txs[1:]:
        if tx.is_coinbase():
            raise ValidationError("bad-cb-multiple", "more than one coinbase")
    sigops = 0
    for tx, raw in zip(block.txs, raws, strict=True):
        try:
            check_transaction(tx, len(raw))
        except ValidationError as exc:
            raise ValidationError(exc.reason, f"transaction check failed: {exc.message}") from exc
        sigops += tx_legacy_sigops(tx)
    if sigops * WITNESS_SCALE_FACTOR > MAX_BLOCK_SIGOPS_COST:
        raise ValidationError("bad-blk-sigops", "out-of-bounds SigOpCount")
    return CheckedBlock(block, block_hash, txids, legacy_size, raws)


# --- contextual checks ---------------------------------------------------------------------


def median_time_past(times: Sequence[int]) -> int:
    """Median of the last (up to) 11 block times, `GetMedianTimePast`."""
    last = sorted(times[-MEDIAN_TIME_SPAN:])
    return last[len(last) // 2]


def block_subsidy(height: int, params: NetworkParams) -> int:
    """New coins a block at `height` may create: 50, halved every interval (`GetBlockSubsidy`)."""
    halvings = height // params.subsidy_halving_interval
    if halvings >= 64:
        return 0
    return (50 * COIN) >> halvings


def is_final_tx(tx: Transaction, height: int, time_cutoff: int) -> bool:
    """`IsFinalTx`: locktime passed (as height or time), or every input's sequence is final."""
    if tx.locktime == 0:
        return True
    limit = height if tx.locktime < LOCKTIME_THRESHOLD else time_cutoff
    if tx.locktime < limit:
        return True
    return all(txin.sequence == SEQUENCE_FINAL for txin in tx.vin)


def contextual_check_block_header(
    header: BlockHeader, expected_bits: int, mtp: int, now: int, params: NetworkParams
) -> None:
    """Checks against the parent (`ContextualCheckBlockHeader`): bits, time window."""
    if header.bits != expected_bits:
        raise ValidationError("bad-diffbits", "incorrect proof of work")
    if header.time <= mtp:
        raise ValidationError("time-too-old", "block's timestamp is too early")
    if header.time > now + params.max_future_block_time:
        raise ValidationError(
            "time-too-new", "block timestamp too far in the future", level="state"
        )


def bip34_height_script(height: int) -> bytes:
    """`CScript() << height`: how BIP34 puts the height at the start of the coinbase scriptSig."""
    if height == 0:
        return b"\x00"
    if 1 <= height <= 16:
        return bytes([0x50 + height])
    data = bytearray()
    value = height
    while value:
        data.append(value & 0xFF)
        value >>= 8
    if data[-1] & 0x80:
        data.append(0)
    return bytes([len(data)]) + bytes(data)


def contextual_check_block(block: Block, height: int, mtp: int) -> None:
    """Finality of every transaction and BIP34's coinbase height (`ContextualCheckBlock`)."""
    for tx in block.txs:
        if not is_final_tx(tx, height, mtp):
            raise ValidationError("bad-txns-nonfinal", "non-final transaction")
    expect = bip34_height_script(height)
    if not block.txs[0].vin[0].script_sig.startswith(expect):
        raise ValidationError("bad-cb-height", "block height mismatch in coinbase")


def require_coins(spent: Sequence[Coin | None]) -> list[Coin]:
    """The coins a transaction spends, every one known; else Core's missing-inputs reason."""
    coins = [coin for coin in spent if coin is not None]
    if len(coins) != len(spent):
        raise ValidationError(
            "bad-txns-inputs-missingorspent", "inputs missing/spent", level="state"
        )
    return coins


def check_tx_inputs(
    tx: Transaction, spent: Sequence[Coin | None], spend_height: int, params: NetworkParams
) -> int:
    """`CheckTxInputs`: inputs exist, coinbases matured, amounts add up. Return the fee."""
    value_in = 0
    for coin in require_coins(spent):
        if coin.is_coinbase and spend_height - coin.height < params.coinbase_maturity:
            raise ValidationError(
                "bad-txns-premature-spend-of-coinbase",
                f"tried to spend coinbase at depth {spend_height - coin.height}",
            )
        value_in += coin.value
        if not money_range(coin.value) or not money_range(value_in):
            raise ValidationError("bad-txns-inputvalues-outofrange", "inputs out of range")
    value_out = tx.total_out()
    if value_in < value_out:
        raise ValidationError(
            "bad-txns-in-belowout", f"value in ({value_in}) < value out ({value_out})"
        )
    fee = value_in - value_out
    if not money_range(fee):
        raise ValidationError("bad-txns-fee-outofrange", "fee out of range")
    return fee


def check_input_scripts(
    tx: Transaction,
    spent: Sequence[Coin],
    flags: int,
    mandatory_flags: int | None = None,
    checks: SignatureChecks | None = None,
    raw: bytes | None = None,
) -> None:
    """Run every input's scriptSig + scriptPubKey (`CheckInputScripts`).

    Failure under `flags` is re-tried under the consensus (`mandatory_flags`) set alone, to tell
    a policy failure ("non-mandatory-script-verify-flag (…)") from a consensus one
    ("mandatory-script-verify-flag-failed (…)"), exactly as Core words them. Standard P2PKH
    spends take `input_check`'s fast path, which gives the interpreter's answer; with
    `checks`, their signatures are queued there and the caller must `checks.wait()`. `raw`, if
    given, is `tx.serialize_legacy()` (signature hashes are cut from it).
    """
    cache = SighashCache(tx, raw)
    for index, (txin, coin) in enumerate(zip(tx.vin, spent, strict=True)):
        try:
            verify_input(tx, index, txin.script_sig, coin.script_pubkey, flags, cache, checks)
        except ScriptError as exc:
            if mandatory_flags is not None and mandatory_flags != flags:
                try:
                    verify_script(txin.script_sig, coin.script_pubkey, tx, index, mandatory_flags)
                except ScriptError:
                    pass
                else:
                    raise ValidationError(
                        f"non-mandatory-script-verify-flag ({exc.code})",
                        f"input {index}: {exc}",
                        level="policy",
                    ) from exc
            raise ValidationError(
                f"mandatory-script-verify-flag-failed ({exc.code})", f"input {index}: {exc}"
            ) from exc


# --- connecting and disconnecting ----------------------------------------------------------


def connect_block(
    checked: CheckedBlock,
    height: int,
    view: CoinsViewCache,
    params: NetworkParams,
    flags: int,
    script_cache: set[tuple[bytes, int]] | None = None,
    checks: SignatureChecks | None = None,
) -> tuple[list[Coin], int]:
    """Spend and create coins of a checked block in `view` (`ConnectBlock`).

    Returns the undo data (spent coins in input order) and the total fees. On error the view
    holds partial changes: the caller throws it away. `script_cache` holds (txid, flags) of
    transactions whose scripts already passed (in the mempool), so they are not run twice.

    With `checks` (`checkqueue.SignatureChecks`), standard signatures are queued there rather
    than verified in line, and nothing is added to `script_cache`: the txids whose scripts
    ran are appended to `checks.script_txids`. The caller must `checks.wait()` before it
    trusts the result (or an error raised), and validate again without `checks` if it fails.
    """
    block = checked.block
    undo: list[Coin] = []
    fees = 0
    for tx, txid, raw in zip(block.txs, checked.txids, checked.tx_raws, strict=True):
        if tx.is_coinbase():
            pass
        else:
            keys = [(i.prevout.txid, i.prevout.vout) for i in tx.vin]
            spent = require_coins([view.get_coin(k) for k in keys])
            fees += check_tx_inputs(tx, spent, height, params)
            if not money_range(fees):
                raise ValidationError("bad-txns-accumulated-fee-outofrange")
            if script_cache is None or (txid, flags) not in script_cache:
                check_input_scripts(tx, spent, flags, None, checks, raw)
                if checks is not None:
                    checks.script_txids.append(txid)
                elif script_cache is not None:
                    script_cache.add((txid, flags))
            for k in keys:
                undo.append(view.spend_coin(k))
        is_cb = tx is block.txs[0]
        for n, txout in enumerate(tx.vout):
            if _is_unspendable(txout.script_pubkey):
                continue  # OP_RETURN outputs never enter the UTXO set
            view.add_coin((txid, n), Coin(txout.value, txout.script_pubkey, height, is_cb))
    reward = block.txs[0].total_out()
    limit = fees + block_subsidy(height, params)
    if reward > limit:
        raise ValidationError(
            "bad-cb-amount", f"coinbase pays too much (actual={reward} vs limit={limit})"
        )
    return undo, fees


def _is_unspendable(script_pubkey: bytes) -> bool:
    """Core's `CScript::IsUnspendable`: starts with OP_RETURN, or too large to ever run."""
    return (script_pubkey[:1] == b"\x6a") or len(script_pubkey) > 10_000


def disconnect_block(
    block: Block, txids: Sequence[bytes], undo: Sequence[Coin], view: CoinsViewCache
) -> None:
    """Undo `connect_block` exactly: drop created coins, restore spent ones (`DisconnectBlock`)."""
    for tx, txid in zip(block.txs, txids, strict=True):
        for n, txout in enumerate(tx.vout):
            if not _is_unspendable(txout.script_pubkey):
                view.changes[(txid, n)] = None
    pos = len(undo)
    for tx in reversed(block.txs[1:]):
        for txin in reversed(tx.vin):
            pos -= 1
            view.add_coin((txin.prevout.txid, txin.prevout.vout), undo[pos])
    if pos != 0:
        raise ValidationError("bad-undo-data", "undo data does not match the block")
