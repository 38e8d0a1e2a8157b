"""Mining RPCs in Bitcoin Core's shapes (`src/rpc/mining.cpp`): generatetoaddress,
generateblock, submitblock, getmininginfo — and the sandbox's own `faucet`.

Mining on regtest is instant; on the classroom network a block takes seconds. The nonce search
runs on the calling RPC thread, *outside* the chain thread, so the node keeps answering while
it mines; the template is built and the block submitted on the chain thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..address import decode_address
from ..block import Block, merkle_root
from ..chainstate import Chain
from ..encoding import hash_to_hex
from ..errors import ChainError, ParseError, ValidationError
from ..miner import create_block_template, solve_block
from ..pow import difficulty
from ..transaction import Transaction
from .faucet import FaucetError
from .jsonfmt import amount
from .rpc import (
    RPC_DESERIALIZATION_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_MISC_ERROR,
    RPC_VERIFY_ERROR,
    Dispatcher,
    Param,
    RPCError,
)
from .rpc_blockchain import parse_hash

if TYPE_CHECKING:
    from .node import Node

MAX_GENERATE = 1000  # blocks per generatetoaddress call: a bound, not a Core rule


def output_script(address: str, params: Any) -> bytes:
    """An address (or "raw(HEX)" descriptor) as a scriptPubKey; -5 otherwise, as Core."""
    if address.startswith("raw(") and address.endswith(")"):
        try:
            return bytes.fromhex(address[4:-1])
        except ValueError:
            pass
    try:
        return decode_address(address, params)
    except (ChainError, ValueError):
        raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address") from None


def mine_one(node: Node, script: bytes, txs: list[Transaction] | None = None) -> Block:
    """Build a template on the chain thread, solve it here, submit it; retry if the tip moved."""
    for _ in range(10):
        template, tip = node.chain_call(
            lambda c: (create_block_template(c, script, extra_txs=txs), c.tip)
        )
        block = solve_block(template, node.chain)  # type: ignore[arg-type]
        if node.stop_event.is_set():
            raise RPCError(RPC_MISC_ERROR, "node is shutting down")
        try:
            node.submit_block(block)
        except ValidationError as err:
            if node.chain_call(lambda c: c.tip) != tip:
                continue  # a peer's block arrived meanwhile: mine on the new tip
            raise RPCError(RPC_VERIFY_ERROR, f"TestBlockValidity failed: {err.reason}") from None
        if node.chain_call(lambda c: c.tip) == block.hash():
            return block
    raise RPCError(RPC_MISC_ERROR, "could not mine on a moving tip")


def register(d: Dispatcher, node: Node) -> None:
    """Register the mining methods and the faucet."""
    params = node.params
    call = node.chain_call

    def generatetoaddress(nblocks: int, address: str, maxtries: int | None = None) -> list[str]:
        if not 0 <= nblocks <= MAX_GENERATE:
            raise RPCError(RPC_INVALID_PARAMETER, f"nblocks must be between 0 and {MAX_GENERATE}")
        script = output_script(address, params)
        return [mine_one(node, script).hash_hex for _ in range(nblocks)]

    def generateblock(output: str, transactions: list[Any], submit: bool = True) -> Any:
        script = output_script(output, params)
        txs: list[Transaction] = []
        for item in transactions:
            if not isinstance(item, str):
                raise RPCError(RPC_INVALID_PARAMETER, "transactions must be txids or raw hex")
            if len(item) == 64:
                h = parse_hash(item, "txid")
                tx = call(lambda c, h=h: c.mempool.get(h))
                if tx is None:
                    raise RPCError(
                        RPC_INVALID_ADDRESS_OR_KEY, f"Transaction {item} not in mempool."
                    )
            else:
                try:
                    tx = Transaction.parse(bytes.fromhex(item))
                except (ValueError, ParseError):
                    raise RPCError(
                        RPC_DESERIALIZATION_ERROR, f"Transaction decode failed for {item[:80]}"
                    ) from None
            txs.append(tx)
        if submit:
            block = mine_one(node, script, txs)
            return {"hash": block.hash_hex}
        template = call(lambda c: create_block_template(c, script, extra_txs=txs))
        block = solve_block(template, node.chain)  # type: ignore[arg-type]
        return {"hash": block.hash_hex, "hex": block.serialize().hex()}

    def submitblock(hexdata: str, dummy: Any = None) -> Any:
        """Validate and store a block given as hex: null if accepted, else the reason."""
        try:
            block = Block.parse(bytes.fromhex(hexdata))
        except (ValueError, ParseError):
            raise RPCError(RPC_DESERIALIZATION_ERROR, "Block decode failed") from None
        try:
            verdict = node.submit_block(block)
        except ValidationError as err:
            return err.reason
        if verdict == "duplicate":
            return "duplicate"
        if verdict in ("orphan", "side-chain"):
            return "inconclusive"
        return None

    def getmininginfo() -> dict[str, Any]:
        """Mining-related state: height, difficulty, transactions waiting in the mempool."""

        def run(c: Chain) -> dict[str, Any]:
            info = c.get_header_info(c.tip)
            return {
                "blocks": c.height,
                "difficulty": difficulty(info.bits) if info else 0.0,
                "networkhashps": 0,
                "pooledtx": len(c.mempool),
                "chain": params.name,
                "warnings": "",
            }

        return call(run)

    def faucet(address: str, amount_: Any = None) -> dict[str, Any]:
        sats = None
        if amount_ is not None:
            try:
                sats = int(round(float(amount_) * 100_000_000))
            except (TypeError, ValueError):
                raise RPCError(RPC_INVALID_PARAMETER, "Invalid amount") from None
        try:
            txid, paid = node.faucet.pay(address, sats)
        except FaucetError as err:
            raise RPCError(err.code, err.message) from None
        return {"txid": hash_to_hex(txid), "address": address, "amount": amount(paid)}

    d.register(
        "generatetoaddress",
        generatetoaddress,
        [Param("nblocks", "num"), Param("address", "str"), Param("maxtries", "num", False)],
        "Mine blocks paying to an address; returns their hashes.",
        category="generating",
    )
    d.register(
        "generateblock",
        generateblock,
        [
            Param("output", "str"),
            Param("transactions", "arr"),
            Param("submit", "bool", False, True),
        ],
        "Mine one block with exactly these transactions (txids from the mempool, or raw hex).",
        category="generating",
    )
    d.register(
        "submitblock",
        submitblock,
        [Param("hexdata", "str"), Param("dummy", "str", False)],
        category="mining",
    )
    d.register("getmininginfo", getmininginfo, category="mining")
    d.register(
        "faucet",
        lambda address, amount=None: faucet(address, amount),
        [Param("address", "str"), Param("amount", "amount|str", False)],
        "Pay sandbox coins to an address from the node's faucet key (rate-limited per address).",
        category="sandbox",
    )


__all__ = ["register", "merkle_root"]
