"""Blocks, transactions and scripts as Bitcoin Core's RPCs show them in JSON.

Follows Core's `core_write.cpp` (`TxToUniv`, `ScriptToUniv`, `ValueFromAmount`) and
`rpc/blockchain.cpp` (`blockheaderToJSON`, `blockToJSON`); `GetDifficulty` is
`sandbox_chain.pow.difficulty`. Amounts are written as Core writes them, coins with exactly
8 decimals (`50.00000000`), so clients parsing with `Decimal` get the exact value.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from ..address import address_from_pubkey_hash
from ..block import Block, BlockHeader
from ..chainview import BlockInfo, ChainTip
from ..encoding import hash_to_hex
from ..params import COIN, NetworkParams
from ..pow import difficulty
from ..script import OP_RETURN, classify, get_op, script_to_asm
from ..sighash import SIGHASH_ALL, SIGHASH_ANYONECANPAY, SIGHASH_NONE, SIGHASH_SINGLE
from ..signature import is_strict_der
from ..transaction import Transaction
from .descriptor import infer_descriptor

# Core's names for output types (GetTxnOutputType).
_TYPE_NAMES = {
    "p2pkh": "pubkeyhash",
    "p2pk": "pubkey",
    "multisig": "multisig",
    "nulldata": "nulldata",
    "nonstandard": "nonstandard",
}


class Amount(int):
    """Satoshis that JSON output writes as Core does: coins with exactly 8 decimals."""

    def coins_text(self) -> str:
        """ "0.00000452" for 452 satoshis (Core's `ValueFromAmount`)."""
        sign = "-" if self < 0 else ""
        whole, frac = divmod(abs(int(self)), COIN)
        return f"{sign}{whole}.{frac:08d}"


def amount(sats: int) -> Amount:
    """Satoshis as Core writes an amount (see `Amount`; `dumps` renders it)."""
    return Amount(sats)


# A random marker per process: amounts travel through json.dumps as marked strings and are
# then written as bare numbers, which json cannot do by itself for a fixed number of decimals.
_MARK = secrets.token_hex(8)
_MARKED = re.compile(f'"{_MARK}(-?[0-9]+\\.[0-9]{{8}})"')


def _default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _mark_amounts(value: Any) -> Any:
    if isinstance(value, Amount):
        return _MARK + value.coins_text()
    if isinstance(value, dict):
        return {k: _mark_amounts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_amounts(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON text with amounts as Core writes them (`50.00000000`) and no NaN."""
    text = json.dumps(_mark_amounts(value), allow_nan=False, separators=(",", ":"))
    return _MARKED.sub(r"\1", text)


def script_pubkey_json(script: bytes, params: NetworkParams) -> dict[str, Any]:
    """Core's `ScriptToUniv(..., include_address=true)`: asm, desc, hex, address, type."""
    kind, details = classify(script)
    out: dict[str, Any] = {
        "asm": script_to_asm(script),
        "desc": infer_descriptor(script, params),
        "hex": script.hex(),
    }
    if kind == "p2pkh":  # Core shows no address for P2PK: it has none
        out["address"] = address_from_pubkey_hash(details, params)
    out["type"] = _TYPE_NAMES[kind]
    return out


# Core's mapSigHashTypes (core_write.cpp), the hash types a scriptSig's asm spells out.
_SIGHASH_NAMES = {
    SIGHASH_ALL: "ALL",
    SIGHASH_ALL | SIGHASH_ANYONECANPAY: "ALL|ANYONECANPAY",
    SIGHASH_NONE: "NONE",
    SIGHASH_NONE | SIGHASH_ANYONECANPAY: "NONE|ANYONECANPAY",
    SIGHASH_SINGLE: "SINGLE",
    SIGHASH_SINGLE | SIGHASH_ANYONECANPAY: "SINGLE|ANYONECANPAY",
}


def script_sig_asm(script: bytes) -> str:
    """Core's `ScriptToAsmStr(scriptSig, fAttemptSighashDecode=true)`.

    As `script_to_asm`, but a push that is a strictly encoded signature with a defined hash
    type is written without its last byte and with the type's name: `3044…[ALL]`.
    """
    words = script_to_asm(script).split(" ")
    if script[:1] == bytes([OP_RETURN]):  # Core's IsUnspendable: data, not signatures
        return " ".join(words)
    pc = index = 0
    while pc < len(script) and index < len(words):
        ok, _, data, pc = get_op(script, pc)
        if not ok:
            break
        if data is not None and len(data) > 4:
            name = _SIGHASH_NAMES.get(data[-1])
            if name is not None and is_strict_der(data):
                words[index] = f"{data[:-1].hex()}[{name}]"
        index += 1
    return " ".join(words)


@dataclass(frozen=True)
class SpentOutput:
    """An output a confirmed transaction spent (what Core reads from its undo data)."""

    value: int  # satoshis
    script_pubkey: bytes
    height: int  # of the block that created it
    coinbase: bool


def tx_json(
    tx: Transaction,
    params: NetworkParams,
    spent: list[SpentOutput] | None = None,
    show_prevout: bool = False,
) -> dict[str, Any]:
    """Core's `TxToUniv` (decoderawtransaction, getrawtransaction verbose, getblock 2/3).

    With `spent` (the outputs its inputs spent, as Core's undo data gives them) the result
    has the transaction's `fee`, and with `show_prevout` each input's `prevout` too.
    """
    size = len(tx.serialize())
    stripped = len(tx.serialize_legacy())
    weight = stripped * 3 + size
    vin = []
    for i, txin in enumerate(tx.vin):
        if tx.is_coinbase():
            vin.append({"coinbase": txin.script_sig.hex(), "sequence": txin.sequence})
            continue
        entry: dict[str, Any] = {
            "txid": hash_to_hex(txin.prevout.txid),
            "vout": txin.prevout.vout,
            "scriptSig": {"asm": script_sig_asm(txin.script_sig), "hex": txin.script_sig.hex()},
        }
        if spent is not None and show_prevout:
            prev = spent[i]
            entry["prevout"] = {
                "generated": prev.coinbase,
                "height": prev.height,
                "value": amount(prev.value),
                "scriptPubKey": script_pubkey_json(prev.script_pubkey, params),
            }
        entry["sequence"] = txin.sequence
        vin.append(entry)
    vout = [
        {
            "value": amount(o.value),
            "n": n,
            "scriptPubKey": script_pubkey_json(o.script_pubkey, params),
        }
        for n, o in enumerate(tx.vout)
    ]
    out = {
        "txid": tx.txid_hex,
        "hash": hash_to_hex(tx.wtxid()),
        "version": tx.version,
        "size": size,
        "vsize": (weight + 3) // 4,
        "weight": weight,
        "locktime": tx.locktime,
        "vin": vin,
        "vout": vout,
    }
    if spent is not None and not tx.is_coinbase():
        out["fee"] = amount(sum(s.value for s in spent) - tx.total_out())
    return out


def header_json(
    header: BlockHeader,
    info: BlockInfo,
    tip_height: int,
    next_hash: bytes | None,
    mediantime: int,
    n_tx: int | None,
) -> dict[str, Any]:
    """Core's `blockheaderToJSON`; confirmations is -1 off the active chain."""
    active = info.status == "active"
    out: dict[str, Any] = {
        "hash": hash_to_hex(info.hash),
        "confirmations": tip_height - info.height + 1 if active else -1,
        "height": info.height,
        "version": header.version,
        "versionHex": f"{header.version & 0xFFFFFFFF:08x}",
        "merkleroot": hash_to_hex(header.merkle_root),
        "time": header.time,
        "mediantime": mediantime,
        "nonce": header.nonce,
        "bits": f"{header.bits:08x}",
        "difficulty": difficulty(header.bits),
        "chainwork": f"{info.chainwork:064x}",
    }
    if n_tx is not None:
        out["nTx"] = n_tx
    if info.height > 0:
        out["previousblockhash"] = hash_to_hex(header.prev_hash)
    if next_hash is not None:
        out["nextblockhash"] = hash_to_hex(next_hash)
    return out


def block_json(
    block: Block,
    info: BlockInfo,
    tip_height: int,
    next_hash: bytes | None,
    mediantime: int,
    verbosity: int,
    params: NetworkParams,
    spent: list[list[SpentOutput] | None] | None = None,
) -> dict[str, Any]:
    """Core's `blockToJSON`: header fields, sizes, and txids (1) or decoded transactions (2,
    with each one's fee when `spent` gives what its inputs spent; 3, with their prevouts)."""
    out = header_json(block.header, info, tip_height, next_hash, mediantime, len(block.txs))
    size = block.size()
    stripped = size - sum(len(t.serialize()) - len(t.serialize_legacy()) for t in block.txs)
    out["strippedsize"] = stripped
    out["size"] = size
    out["weight"] = stripped * 3 + size
    if verbosity >= 2:
        out["tx"] = [
            tx_json(tx, params, spent[i] if spent else None, verbosity >= 3)
            | {"hex": tx.serialize().hex()}
            for i, tx in enumerate(block.txs)
        ]
    else:
        out["tx"] = [tx.txid_hex for tx in block.txs]
    return out


def chain_tip_json(tip: ChainTip) -> dict[str, Any]:
    """One entry of Core's `getchaintips`: height, hash, branchlen, status (also REST's)."""
    return {
        "height": tip.height,
        "hash": hash_to_hex(tip.hash),
        "branchlen": tip.branchlen,
        "status": tip.status,
    }
