"""Raw-transaction RPCs in Bitcoin Core's shapes (`src/rpc/rawtransaction.cpp`,
`src/rpc/mempool.cpp`): getrawtransaction, decoderawtransaction, decodescript,
sendrawtransaction, testmempoolaccept.

Error mapping, as Core's `BroadcastTransaction` + `JSONRPCTransactionError` do it: missing or
spent inputs → -25 with the reject reason; any other rejection → -26 with the reject reason;
outputs already in the UTXO set → -27; undecodable hex → -22.
"""

from __future__ import annotations

from typing import Any

from ...chainstate import Chain
from ...encoding import hash_to_hex
from ...errors import ParseError, ValidationError
from ...params import COIN
from ...transaction import Transaction
from ..chainaccess import ChainAccess
from ..jsonfmt import amount, script_pubkey_json, tx_json
from .blockchain import spent_outputs
from .dispatch import (
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_TYPE_ERROR,
    RPC_VERIFY_ALREADY_IN_CHAIN,
    RPC_VERIFY_ERROR,
    RPC_VERIFY_REJECTED,
    Command,
    Param,
    RPCError,
)
from .util import parse_hash, parse_verbosity

DEFAULT_MAX_FEE_RATE = 0.10  # coins per kvB, Core's DEFAULT_MAX_RAW_TX_FEE_RATE
MISSING_INPUTS = "bad-txns-inputs-missingorspent"


def decode_tx(hexstring: str) -> Transaction:
    """Core's `DecodeHexTx`: -22 "TX decode failed" for anything that is not one transaction."""
    try:
        return Transaction.parse(bytes.fromhex(hexstring))
    except (ValueError, ParseError) as exc:
        raise RPCError(RPC_DESERIALIZATION_ERROR, f"TX decode failed. {exc}") from None


def reject_message(err: ValidationError) -> str:
    """The reject reason as Core prints it (`ValidationState::ToString`): "reason, debug"."""
    return f"{err.reason}, {err.message}" if err.message else err.reason


def tx_error(err: ValidationError) -> RPCError:
    """Map a mempool rejection to Core's RPC error."""
    if err.reason == "txn-already-known":
        return RPCError(RPC_VERIFY_ALREADY_IN_CHAIN, "Transaction outputs already in utxo set")
    if err.reason == MISSING_INPUTS:
        return RPCError(RPC_VERIFY_ERROR, MISSING_INPUTS)
    return RPCError(RPC_VERIFY_REJECTED, reject_message(err))


def input_value(chain: Chain, tx: Transaction) -> int | None:
    """Sum of the spent outputs (chain UTXOs or mempool outputs), None if one is unknown."""
    total = 0
    for txin in tx.vin:
        coin = chain.get_utxo(txin.prevout)
        if coin is not None:
            total += coin.value
            continue
        parent = chain.mempool.get(txin.prevout.txid)
        if parent is None or txin.prevout.vout >= len(parent.vout):
            return None
        total += parent.vout[txin.prevout.vout].value
    return total


def _fee_rate_limit(value: Any) -> int | None:
    """maxfeerate in coins/kvB → satoshis per 1000 bytes; 0 means no limit.

    Core's `ParseFeeRate`: an amount (`AmountFromValue`, -3 if invalid or negative) below
    1 coin/kvB (-8 otherwise).
    """
    rate = DEFAULT_MAX_FEE_RATE if value is None else value
    if isinstance(rate, str):  # Core accepts amounts as strings too
        try:
            rate = float(rate)
        except ValueError:
            raise RPCError(RPC_TYPE_ERROR, "Invalid amount") from None
    if not 0 <= rate <= 21_000_000:  # MoneyRange; also refuses NaN
        raise RPCError(RPC_TYPE_ERROR, "Amount out of range")
    if rate >= 1:
        raise RPCError(
            RPC_INVALID_PARAMETER, "Fee rates larger than or equal to 1BTC/kvB are not accepted"
        )
    return None if rate == 0 else int(round(rate * COIN))


def getrawtransaction(
    ctx: ChainAccess, txid: str, verbosity: Any = None, blockhash: str | None = None
) -> Any:
    """A transaction from the mempool or the chain, as hex or (verbose) decoded."""
    h = parse_hash(txid, "txid")
    if h == ctx.params.genesis_block.header.merkle_root:  # its output is not spendable either
        raise RPCError(
            RPC_INVALID_ADDRESS_OR_KEY,
            "The genesis block coinbase is not considered an ordinary transaction "
            "and cannot be retrieved",
        )
    level = parse_verbosity(verbosity, 0)
    in_block = parse_hash(blockhash, "blockhash") if blockhash is not None else None

    def run(c: Chain) -> Any:
        where: bytes | None
        if in_block is not None:
            if c.get_header_info(in_block) is None:
                raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, "Block hash not found")
            block = c.get_block(in_block)
            found = next((t for t in block.txs if t.txid() == h), None) if block else None
            if found is None:
                raise RPCError(
                    RPC_INVALID_ADDRESS_OR_KEY,
                    "No such transaction found in the provided block. "
                    "Use gettransaction for wallet transactions.",
                )
            tx, where = found, in_block
        else:
            got = c.get_transaction(h)
            if got is None:
                raise RPCError(
                    RPC_INVALID_ADDRESS_OR_KEY,
                    "No such mempool or blockchain transaction. "
                    "Use gettransaction for wallet transactions.",
                )
            tx, where = got
        if level <= 0:
            return tx.serialize().hex()
        info = c.get_header_info(where) if where is not None else None
        active = info is not None and info.status == "active"
        # Core's getrawtransaction + TxToJSON: `in_active_chain` only answers a given
        # blockhash; time and blocktime only for a block of the active chain.
        out: dict[str, Any] = {"in_active_chain": active} if in_block is not None else {}
        # Verbosity 2 adds the fee and the spent outputs, for a confirmed transaction only.
        spent = spent_outputs(c, tx) if level >= 2 and where is not None else None
        out |= tx_json(tx, ctx.params, spent, show_prevout=True)
        out["hex"] = tx.serialize().hex()
        if where is not None:
            out["blockhash"] = hash_to_hex(where)
        if info is not None and active:
            out["confirmations"] = c.height - info.height + 1
            out["time"] = out["blocktime"] = info.time
        elif info is not None:
            out["confirmations"] = 0
        return out

    return ctx.chain_call(run)


def decoderawtransaction(
    ctx: ChainAccess, hexstring: str, iswitness: bool | None = None
) -> dict[str, Any]:
    """Decode a serialized transaction given as hex (nothing is looked up)."""
    return tx_json(decode_tx(hexstring), ctx.params)


def decodescript(ctx: ChainAccess, hexstring: str) -> dict[str, Any]:
    """Decode a script given as hex: asm, descriptor, address and type."""
    # Core's decodescript is ScriptToUniv without the hex. It adds the P2SH (and segwit)
    # wrapping addresses, which the sandbox leaves out: it cannot spend through them.
    try:
        script = bytes.fromhex(hexstring) if len(hexstring) % 2 == 0 else None
    except ValueError:
        script = None
    if script is None:
        raise RPCError(
            RPC_INVALID_PARAMETER, f"argument must be hexadecimal string (not '{hexstring}')"
        )
    out = script_pubkey_json(script, ctx.params)
    del out["hex"]
    return out


def sendrawtransaction(ctx: ChainAccess, hexstring: str, maxfeerate: Any = None) -> str:
    """Put a signed transaction in the mempool and relay it; returns its txid."""
    tx = decode_tx(hexstring)
    limit = _fee_rate_limit(maxfeerate)
    txid = tx.txid()

    def precheck(c: Chain) -> bool:
        if txid in c.mempool:
            return True  # Core answers the txid of a transaction it already has
        if limit is not None:
            spent = input_value(c, tx)
            size = len(tx.serialize_legacy())
            if spent is not None and (spent - tx.total_out()) * 1000 > limit * size:
                raise RPCError(
                    RPC_VERIFY_ERROR,
                    "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)",
                )
        return False

    try:
        ctx.accept_tx(tx, precheck=precheck)
    except ValidationError as err:
        raise tx_error(err) from None
    return hash_to_hex(txid)


def testmempoolaccept(
    ctx: ChainAccess, rawtxs: list[Any], maxfeerate: Any = None
) -> list[dict[str, Any]]:
    """Whether the mempool would accept each transaction (nothing is kept), and why not."""
    if not 1 <= len(rawtxs) <= 25:
        raise RPCError(RPC_INVALID_PARAMETER, "Array must contain between 1 and 25 transactions.")
    txs = []
    for raw in rawtxs:
        if not isinstance(raw, str):
            raise RPCError(RPC_DESERIALIZATION_ERROR, "TX decode failed")
        txs.append(decode_tx(raw))
    limit = _fee_rate_limit(maxfeerate)

    def run(c: Chain) -> list[dict[str, Any]]:
        results, added = [], []
        try:
            for tx in txs:
                res: dict[str, Any] = {"txid": tx.txid_hex, "wtxid": hash_to_hex(tx.wtxid())}
                spent = input_value(c, tx)
                try:
                    txid = c.accept_to_mempool(tx)
                except ValidationError as err:
                    res["allowed"] = False
                    if err.reason == MISSING_INPUTS:  # Core's TX_MISSING_INPUTS
                        res["reject-reason"] = "missing-inputs"
                    else:
                        res["reject-reason"] = err.reason
                        res["reject-details"] = reject_message(err)
                    results.append(res)
                    continue
                added.append(txid)
                size = len(tx.serialize_legacy())
                fee = (spent or 0) - tx.total_out()
                if limit is not None and fee * 1000 > limit * size:
                    res |= {"allowed": False, "reject-reason": "max-fee-exceeded"}
                else:
                    fees = {
                        "base": amount(fee),
                        # CFeeRate(fee, vsize).GetFeePerK(): integer satoshis per kvB
                        "effective-feerate": amount(fee * 1000 // size),
                        "effective-includes": [res["wtxid"]],
                    }
                    res |= {"allowed": True, "vsize": size, "fees": fees}
                results.append(res)
        finally:
            for txid in reversed(added):  # a test leaves the pool as it was
                if txid in c.mempool:
                    c.mempool.remove_with_descendants(txid)
        return results

    return ctx.chain_call(run)


_R = "rawtransactions"
COMMANDS = [
    Command(
        "getrawtransaction",
        getrawtransaction,
        (
            Param("txid", "str"),
            Param("verbosity|verbose", "num|bool", False, 0),
            Param("blockhash", "str", False),
        ),
        category=_R,
    ),
    Command(
        "decoderawtransaction",
        decoderawtransaction,
        (Param("hexstring", "str"), Param("iswitness", "bool", False)),
        category=_R,
    ),
    Command("decodescript", decodescript, (Param("hexstring", "str"),), category=_R),
    Command(
        "sendrawtransaction",
        sendrawtransaction,
        (Param("hexstring", "str"), Param("maxfeerate", "amount|str", False)),
        category=_R,
    ),
    Command(
        "testmempoolaccept",
        testmempoolaccept,
        (Param("rawtxs", "arr"), Param("maxfeerate", "amount|str", False)),
        category=_R,
    ),
]
