"""Blockchain RPCs in Bitcoin Core's shapes (`src/rpc/blockchain.cpp`, `src/rpc/mempool.cpp`):
getblockchaininfo, getblockcount, getbestblockhash, getblockhash, getblock, getblockheader,
getchaintips, getdifficulty, gettxout, getrawmempool, getmempoolinfo, getmempoolentry,
scantxoutset.

Each method is a module-level function taking the node's `ChainAccess` first; `COMMANDS` lists
them with their parameters for the dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...chainstate import Chain
from ...encoding import hash_to_hex
from ...mempool import MIN_RELAY_FEE_PER_KB
from ...pow import difficulty
from ...transaction import OutPoint, Transaction
from ..chainaccess import ChainAccess
from ..descriptor import DescriptorError, descriptor_script, infer_descriptor
from ..jsonfmt import (
    SpentOutput,
    amount,
    block_json,
    chain_tip_json,
    header_json,
    script_pubkey_json,
)
from .dispatch import (
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_MISC_ERROR,
    Command,
    Param,
    RPCError,
)
from .util import parse_hash, parse_verbosity


def _in_pool_family(chain: Chain, txid: bytes, link: str) -> list[Any]:
    """The entry and all its in-pool ancestors (link="parents") or descendants ("children")."""
    entries = chain.mempool.entries
    seen: dict[bytes, Any] = {}
    stack = [txid]
    while stack:  # bounded: each pool entry is visited at most once
        t = stack.pop()
        if t in seen or t not in entries:
            continue
        seen[t] = entries[t]
        stack.extend(getattr(entries[t], link))
    return list(seen.values())


def _mempool_entry_json(chain: Chain, txid: bytes) -> dict[str, Any]:
    """Core's `entryToJSON`: ancestor and descendant figures include the entry itself."""
    entry = chain.mempool.entries[txid]
    fee = amount(entry.fee)
    ancestors = _in_pool_family(chain, txid, "parents")
    descendants = _in_pool_family(chain, txid, "children")
    return {
        "vsize": entry.size,
        "weight": entry.size * 4,
        "time": int(entry.time),
        "height": chain.height,
        "descendantcount": len(descendants),
        "descendantsize": sum(e.size for e in descendants),
        "ancestorcount": len(ancestors),
        "ancestorsize": sum(e.size for e in ancestors),
        "wtxid": hash_to_hex(entry.tx.wtxid()),
        "fees": {
            "base": fee,
            "modified": fee,
            "ancestor": amount(sum(e.fee for e in ancestors)),
            "descendant": amount(sum(e.fee for e in descendants)),
        },
        "depends": sorted(hash_to_hex(p) for p in entry.parents),
        "spentby": sorted(hash_to_hex(c) for c in entry.children),
        "bip125-replaceable": False,
        "unbroadcast": False,
    }


def spent_outputs(c: Chain, tx: Transaction) -> list[SpentOutput] | None:
    """The outputs a confirmed transaction's inputs spent, from the transactions that created
    them (Core reads its undo data); None for a coinbase or if one of them is not in the
    active chain (a side branch's transaction)."""
    if tx.is_coinbase():
        return None
    spent = []
    for txin in tx.vin:
        got = c.get_transaction(txin.prevout.txid)
        if got is None:
            return None
        prev, where = got
        if where is None or txin.prevout.vout >= len(prev.vout):
            return None
        info = c.get_header_info(where)
        if info is None:
            return None
        out = prev.vout[txin.prevout.vout]
        spent.append(SpentOutput(out.value, out.script_pubkey, info.height, prev.is_coinbase()))
    return spent


def blockchain_info(c: Chain, datadir: Path) -> dict[str, Any]:
    """Core's `getblockchaininfo` object (also REST's /rest/chaininfo), on the chain thread."""
    info = c.get_header_info(c.tip)
    if info is None:  # cannot happen: the tip is always indexed
        raise RPCError(RPC_MISC_ERROR, "tip not in the block index")
    headers = max((t.height for t in c.chain_tips() if t.status != "invalid"), default=0)
    db = datadir / "chain.sqlite"
    return {
        "chain": c.params.name,
        "blocks": c.height,
        "headers": max(headers, c.height),
        "bestblockhash": hash_to_hex(c.tip),
        "difficulty": difficulty(info.bits),
        "time": info.time,
        "mediantime": c.median_time_past(),
        "verificationprogress": 1.0,
        "initialblockdownload": False,
        "chainwork": f"{info.chainwork:064x}",
        "size_on_disk": db.stat().st_size if db.exists() else 0,
        "pruned": False,
        "warnings": "",
    }


def getblockchaininfo(ctx: ChainAccess) -> dict[str, Any]:
    """The chain's state: network, height, best block, difficulty, chainwork, size on disk."""
    return ctx.chain_call(blockchain_info, ctx.datadir)


def getblockcount(ctx: ChainAccess) -> int:
    """The height of the active chain's tip (the genesis block is height 0)."""
    return ctx.chain_call(lambda c: c.height)


def getbestblockhash(ctx: ChainAccess) -> str:
    """The hash of the active chain's tip."""
    return hash_to_hex(ctx.chain_call(lambda c: c.tip))


def getblockhash(ctx: ChainAccess, height: int) -> str:
    """The hash of the active chain's block at `height` (-8 if out of range)."""
    h = ctx.chain_call(lambda c: c.get_block_hash(height) if 0 <= height <= c.height else None)
    if h is None:
        raise RPCError(RPC_INVALID_PARAMETER, "Block height out of range")
    return hash_to_hex(h)


def _header_context(c: Chain, h: bytes) -> tuple[Any, Any, int, bytes | None, int]:
    info = c.get_header_info(h)
    if info is None:
        raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, "Block not found")
    block = c.get_block(h)
    nxt = c.get_block_hash(info.height + 1) if info.status == "active" else None
    return info, block, c.height, nxt, c.median_time_past(h)


def getblock(ctx: ChainAccess, blockhash: str, verbosity: Any = None) -> Any:
    """verbosity 0: hex; 1: with txids; 2: with decoded transactions and their fees;
    3: also with the outputs they spent."""
    h = parse_hash(blockhash, "blockhash")
    level = parse_verbosity(verbosity, 1)
    info, block, tip_height, nxt, mtp = ctx.chain_call(_header_context, h)
    if block is None:
        raise RPCError(RPC_MISC_ERROR, "Block not available (not fully downloaded)")
    if level <= 0:
        return block.serialize().hex()
    spent = None
    if level >= 2:
        spent = ctx.chain_call(lambda c: [spent_outputs(c, tx) for tx in block.txs])
    return block_json(block, info, tip_height, nxt, mtp, level, ctx.params, spent)


def getblockheader(ctx: ChainAccess, blockhash: str, verbose: bool = True) -> Any:
    """A block's header: decoded (verbose, the default) or as 80 bytes of hex."""
    h = parse_hash(blockhash, "blockhash")
    info, block, tip_height, nxt, mtp = ctx.chain_call(_header_context, h)
    if block is None:
        raise RPCError(RPC_MISC_ERROR, "Block not available (not fully downloaded)")
    if not verbose:
        return block.header.serialize().hex()
    return header_json(block.header, info, tip_height, nxt, mtp, len(block.txs))


def getchaintips(ctx: ChainAccess) -> list[dict[str, Any]]:
    """Every leaf of the block tree: the active tip, forks, and invalid branches."""
    return [chain_tip_json(t) for t in ctx.chain_call(lambda c: c.chain_tips())]


def _tip_bits(c: Chain) -> int:
    info = c.get_header_info(c.tip)
    if info is None:  # cannot happen: the tip is always indexed
        raise RPCError(RPC_MISC_ERROR, "tip not in the block index")
    return info.bits


def getdifficulty(ctx: ChainAccess) -> float:
    """The tip's difficulty, as a multiple of mainnet's minimum."""
    return difficulty(ctx.chain_call(_tip_bits))


def gettxout(ctx: ChainAccess, txid: str, n: int, include_mempool: bool = True) -> Any:
    """An unspent output (null if spent or unknown), mempool included unless told not to."""
    h = parse_hash(txid, "txid")
    params = ctx.params

    def run(c: Chain) -> Any:
        key = (h, n)
        if include_mempool and key in c.mempool.spenders:
            return None
        coin = c.get_utxo(OutPoint(h, n)) if 0 <= n <= 0xFFFFFFFF else None
        confirmations = None
        if coin is not None:
            confirmations = c.height - coin.height + 1
            value, script, is_cb = coin.value, coin.script_pubkey, coin.is_coinbase
        elif include_mempool and (tx := c.mempool.get(h)) is not None and 0 <= n < len(tx.vout):
            confirmations = 0
            value, script, is_cb = tx.vout[n].value, tx.vout[n].script_pubkey, False
        else:
            return None
        return {
            "bestblock": hash_to_hex(c.tip),
            "confirmations": confirmations,
            "value": amount(value),
            "scriptPubKey": script_pubkey_json(script, params),
            "coinbase": is_cb,
        }

    return ctx.chain_call(run)


def getrawmempool(ctx: ChainAccess, verbose: bool = False, mempool_sequence: bool = False) -> Any:
    """The txids in the mempool, or (verbose) each entry's size, fees and in-pool relatives."""
    if verbose and mempool_sequence:
        raise RPCError(
            RPC_INVALID_PARAMETER,
            "Verbose results cannot contain mempool sequence values.",
        )

    def run(c: Chain) -> Any:
        txids = c.mempool.txids()
        if verbose:
            return {hash_to_hex(t): _mempool_entry_json(c, t) for t in txids}
        listed = [hash_to_hex(t) for t in txids]
        if mempool_sequence:
            return {"txids": listed, "mempool_sequence": len(listed)}
        return listed

    return ctx.chain_call(run)


def getmempoolentry(ctx: ChainAccess, txid: str) -> dict[str, Any]:
    """One mempool entry: size, fees, ancestors and descendants (-5 if not in the pool)."""
    h = parse_hash(txid, "txid")

    def run(c: Chain) -> dict[str, Any]:
        if h not in c.mempool:
            raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, "Transaction not in mempool")
        return _mempool_entry_json(c, h)

    return ctx.chain_call(run)


def getmempoolinfo(ctx: ChainAccess) -> dict[str, Any]:
    """The mempool's size in transactions and bytes, its fees and its relay fee rates."""

    def run(c: Chain) -> dict[str, Any]:
        entries = list(c.mempool.entries.values())
        size = sum(e.size for e in entries)
        return {
            "loaded": True,
            "size": len(entries),
            "bytes": size,
            "usage": size * 2,
            "total_fee": amount(sum(e.fee for e in entries)),
            "maxmempool": 300_000_000,
            "mempoolminfee": amount(MIN_RELAY_FEE_PER_KB),
            "minrelaytxfee": amount(MIN_RELAY_FEE_PER_KB),
            "incrementalrelayfee": amount(MIN_RELAY_FEE_PER_KB),
            "unbroadcastcount": 0,
            "fullrbf": False,
        }

    return ctx.chain_call(run)


def scantxoutset(ctx: ChainAccess, action: str, scanobjects: list[Any] | None = None) -> Any:
    """Unspent outputs of descriptors addr(ADDRESS), raw(HEX), pk(KEY), multi(m,KEY,...)."""
    if action in ("abort", "status"):
        return False if action == "abort" else None
    if action != "start":
        raise RPCError(RPC_INVALID_PARAMETER, f"Invalid action '{action}'")
    if scanobjects is None:
        raise RPCError(RPC_MISC_ERROR, "scanobjects argument is required for the start action")
    params = ctx.params
    scripts = [_descriptor_script(obj, params) for obj in scanobjects]

    def run(c: Chain) -> dict[str, Any]:
        unspents, total = [], 0
        for script in scripts:
            desc = infer_descriptor(script, params)
            for outpoint, coin in c.utxos_for_script(script):
                total += coin.value
                unspents.append(
                    {
                        "txid": hash_to_hex(outpoint.txid),
                        "vout": outpoint.vout,
                        "scriptPubKey": script.hex(),
                        "desc": desc,
                        "amount": amount(coin.value),
                        "coinbase": coin.is_coinbase,
                        "height": coin.height,
                    }
                )
        return {
            "success": True,
            "txouts": len(unspents),
            "height": c.height,
            "bestblock": hash_to_hex(c.tip),
            "unspents": unspents,
            "total_amount": amount(total),
        }

    return ctx.chain_call(run)


def _descriptor_script(obj: Any, params: Any) -> bytes:
    """The scriptPubKey of a scan object: a descriptor string or {"desc": ...} (-5 if bad)."""
    desc = obj.get("desc") if isinstance(obj, dict) else obj
    if not isinstance(desc, str):
        raise RPCError(
            RPC_INVALID_PARAMETER, "Scan object needs to be either a string or an object"
        )
    try:
        return descriptor_script(desc, params)
    except DescriptorError as exc:
        raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, str(exc)) from None


_B = "blockchain"
COMMANDS = [
    Command("getblockchaininfo", getblockchaininfo, category=_B),
    Command("getblockcount", getblockcount, category=_B),
    Command("getbestblockhash", getbestblockhash, category=_B),
    Command("getblockhash", getblockhash, (Param("height", "num"),), category=_B),
    Command(
        "getblock",
        getblock,
        (Param("blockhash", "str"), Param("verbosity|verbose", "num|bool", False, 1)),
        "verbosity 0: hex; 1: with txids; 2: with decoded transactions and their fees; "
        "3: also with the outputs they spent.",
        category=_B,
    ),
    Command(
        "getblockheader",
        getblockheader,
        (Param("blockhash", "str"), Param("verbose", "bool", False, True)),
        category=_B,
    ),
    Command("getchaintips", getchaintips, category=_B),
    Command("getdifficulty", getdifficulty, category=_B),
    Command(
        "gettxout",
        gettxout,
        (Param("txid", "str"), Param("n", "num"), Param("include_mempool", "bool", False, True)),
        category=_B,
    ),
    Command(
        "getrawmempool",
        getrawmempool,
        (Param("verbose", "bool", False, False), Param("mempool_sequence", "bool", False, False)),
        category=_B,
    ),
    Command("getmempoolentry", getmempoolentry, (Param("txid", "str"),), category=_B),
    Command("getmempoolinfo", getmempoolinfo, category=_B),
    Command(
        "scantxoutset",
        scantxoutset,
        (Param("action", "str"), Param("scanobjects", "arr", False)),
        "Unspent outputs of descriptors addr(ADDRESS), raw(HEX), pk(KEY), multi(m,KEY,...).",
        category=_B,
    ),
]
