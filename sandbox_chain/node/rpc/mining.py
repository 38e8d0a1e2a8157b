"""Mining RPCs in Bitcoin Core's shapes (`src/rpc/mining.cpp`): generatetoaddress,
generateblock, submitblock, getmininginfo — and the sandbox's own `faucet`.

The mining itself (template on the chain thread, nonce search outside it) is `node.mining`.
Each method is a module-level function taking the node's context first; `COMMANDS` lists them
with their parameters for the dispatcher.
"""

from __future__ import annotations

from typing import Any

from ...block import Block
from ...chainstate import Chain
from ...encoding import hash_to_hex
from ...errors import ParseError, ValidationError
from ...miner import solve_template
from ...params import COIN
from ...pow import difficulty
from ...transaction import Transaction
from .. import jsonfmt
from ..chainaccess import ChainAccess
from ..context import NodeContext
from ..faucet import FaucetError
from ..mining import block_template, mine_one
from .dispatch import (
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    Command,
    Param,
    RPCError,
)
from .util import output_script, parse_hash

MAX_GENERATE = 1000  # blocks per generatetoaddress call: a bound, not a Core rule


def generatetoaddress(
    ctx: ChainAccess, nblocks: int, address: str, maxtries: int | None = None
) -> list[str]:
    """Mine blocks paying to an address; returns their hashes."""
    if not 0 <= nblocks <= MAX_GENERATE:
        raise RPCError(RPC_INVALID_PARAMETER, f"nblocks must be between 0 and {MAX_GENERATE}")
    script = output_script(address, ctx.params)
    return [mine_one(ctx, script).hash_hex for _ in range(nblocks)]


def generateblock(
    ctx: ChainAccess, output: str, transactions: list[Any], submit: bool = True
) -> Any:
    """Mine one block with exactly these transactions (txids from the mempool, or raw hex)."""
    script = output_script(output, ctx.params)
    txs: list[Transaction] = []
    for item in transactions:
        if not isinstance(item, str):
            raise RPCError(RPC_INVALID_PARAMETER, "transactions must be txids or raw hex")
        if len(item) == 64:
            h = parse_hash(item, "txid")
            found = ctx.chain_call(lambda c, h=h: c.mempool.get(h))
            if found is None:
                raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, f"Transaction {item} not in mempool.")
            tx = found
        else:
            try:
                tx = Transaction.parse(bytes.fromhex(item))
            except (ValueError, ParseError):
                raise RPCError(
                    RPC_DESERIALIZATION_ERROR, f"Transaction decode failed for {item[:80]}"
                ) from None
        txs.append(tx)
    if submit:
        return {"hash": mine_one(ctx, script, txs).hash_hex}
    block = solve_template(block_template(ctx, script, txs), ctx.params)
    return {"hash": block.hash_hex, "hex": block.serialize().hex()}


def submitblock(ctx: ChainAccess, hexdata: str, dummy: Any = None) -> Any:
    """Validate and store a block given as hex: null if accepted, else the reason."""
    try:
        block = Block.parse(bytes.fromhex(hexdata))
    except (ValueError, ParseError):
        raise RPCError(RPC_DESERIALIZATION_ERROR, "Block decode failed") from None
    try:
        verdict = ctx.submit_block(block)
    except ValidationError as err:
        return err.reason
    if verdict == "duplicate":
        return "duplicate"
    if verdict in ("orphan", "side-chain"):
        return "inconclusive"
    return None


def getmininginfo(ctx: ChainAccess) -> dict[str, Any]:
    """Mining-related state: height, difficulty, transactions waiting in the mempool."""
    name = ctx.params.name

    def run(c: Chain) -> dict[str, Any]:
        info = c.get_header_info(c.tip)
        return {
            "blocks": c.height,
            "difficulty": difficulty(info.bits) if info else 0.0,
            "networkhashps": 0,
            "pooledtx": len(c.mempool),
            "chain": name,
            "warnings": "",
        }

    return ctx.chain_call(run)


def faucet(ctx: NodeContext, address: str, amount: Any = None) -> dict[str, Any]:
    """Pay sandbox coins to an address from the node's faucet key (rate-limited per address)."""
    sats = None
    if amount is not None:
        try:
            sats = int(round(float(amount) * COIN))
        except (TypeError, ValueError):
            raise RPCError(RPC_INVALID_PARAMETER, "Invalid amount") from None
    try:
        txid, paid = ctx.faucet.pay(address, sats)
    except FaucetError as err:
        raise RPCError(err.code, err.message) from None
    return {"txid": hash_to_hex(txid), "address": address, "amount": jsonfmt.amount(paid)}


COMMANDS = [
    Command(
        "generatetoaddress",
        generatetoaddress,
        (Param("nblocks", "num"), Param("address", "str"), Param("maxtries", "num", False)),
        category="generating",
    ),
    Command(
        "generateblock",
        generateblock,
        (
            Param("output", "str"),
            Param("transactions", "arr"),
            Param("submit", "bool", False, True),
        ),
        category="generating",
    ),
    Command(
        "submitblock",
        submitblock,
        (Param("hexdata", "str"), Param("dummy", "str", False)),
        category="mining",
    ),
    Command("getmininginfo", getmininginfo, category="mining"),
    Command(
        "faucet",
        faucet,
        (Param("address", "str"), Param("amount", "amount|str", False)),
        category="sandbox",
    ),
]
