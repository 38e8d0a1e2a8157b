"""The read-only REST API for the block explorer, described in `sandbox_chain/openapi.yaml`.

Modelled on Bitcoin Core's REST interface (`src/rest.cpp`: `/rest/chaininfo.json`,
`/rest/block/<hash>.json`, `/rest/tx/<txid>.json`, `/rest/blockhashbyheight/<h>.json`,
`/rest/mempool/...`) with JSON only (a `.json` suffix is accepted and ignored) and with what an
explorer needs on top: address history and balance, chain tips and a page of recent blocks.
Like Core's, it needs no credentials and changes nothing: GET (and HEAD) only.

`ROUTES` is the single list of routes; a test checks it against the OpenAPI file both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from ..address import decode_address
from ..chainstate import Chain
from ..encoding import hash_to_hex, hex_to_hash
from ..errors import ChainError
from .chainaccess import ChainAccess
from .jsonfmt import amount, block_json, chain_tip_json, tx_json
from .rpc.blockchain import blockchain_info
from .server import Request, Response, error_response, json_response

MAX_BLOCKS_PAGE = 100
MAX_HISTORY = 1000
_HASH = re.compile(r"^[0-9a-fA-F]{64}$")


class RestError(Exception):
    """An HTTP error answer: status and message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def _hash(text: str, what: str) -> bytes:
    if not _HASH.match(text):
        raise RestError(400, f"Invalid hash: {text[:80]}")
    return hex_to_hash(text)


def _int(text: str | None, what: str, default: int, lo: int, hi: int) -> int:
    if text is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,12}", text):
        raise RestError(400, f"{what} must be an integer")
    value = int(text)
    if not lo <= value <= hi:
        raise RestError(400, f"{what} must be between {lo} and {hi}")
    return value


class RestAPI:
    """Routes `GET /rest/...` requests to handlers running on the chain thread."""

    def __init__(self, node: ChainAccess) -> None:
        self.node = node
        self.params = node.params
        # (path template, handler): "{name}" matches one path segment.
        self.routes: list[tuple[str, Callable[..., Any]]] = [
            ("/rest/chaininfo", self.chaininfo),
            ("/rest/block/{blockhash}", self.block),
            ("/rest/blockhashbyheight/{height}", self.blockhashbyheight),
            ("/rest/blocks", self.blocks),
            ("/rest/tx/{txid}", self.tx),
            ("/rest/address/{address}", self.address),
            ("/rest/mempool", self.mempool),
            ("/rest/chaintips", self.chaintips),
        ]
        self._compiled = [
            (re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", t) + "$"), h)
            for t, h in self.routes
        ]

    def handle(self, request: Request) -> Response:
        """Answer one REST request (JSON), 4xx on bad input, never a 500."""
        path, _, query_text = request.path.partition("?")
        path = unquote(path)
        if path.endswith(".json"):
            path = path[: -len(".json")]
        for pattern, handler in self._compiled:
            m = pattern.match(path)
            if m is None:
                continue
            if request.method not in ("GET", "HEAD"):
                return error_response(405, "the REST interface is read-only (GET)")
            try:
                query = parse_qs(query_text, max_num_fields=10)
            except ValueError:
                return error_response(400, "bad query string")
            try:
                return json_response(200, handler(query=query, **m.groupdict()))
            except RestError as err:
                return error_response(err.status, err.message)
        return error_response(404, f"no REST route {path[:80]}")

    # --- handlers -----------------------------------------------------------------------

    def chaininfo(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Core's /rest/chaininfo (getblockchaininfo's object), plus the mempool's size."""

        def run(c: Chain) -> dict[str, Any]:
            return blockchain_info(c, self.node.datadir) | {"mempool_size": len(c.mempool)}

        return self.node.chain_call(run)

    def block(self, query: dict[str, list[str]], blockhash: str) -> dict[str, Any]:
        """One block with its decoded transactions."""
        h = _hash(blockhash, "block hash")

        def run(c: Chain) -> dict[str, Any]:
            info = c.get_header_info(h)
            block = c.get_block(h) if info else None
            if info is None or block is None:
                raise RestError(404, f"{blockhash} not found")
            nxt = c.get_block_hash(info.height + 1) if info.status == "active" else None
            return block_json(block, info, c.height, nxt, c.median_time_past(h), 2, self.params)

        return self.node.chain_call(run)

    def blockhashbyheight(self, query: dict[str, list[str]], height: str) -> dict[str, Any]:
        """The active-chain block hash at a height."""
        n = _int(height, "height", 0, 0, 2**31 - 1)
        h = self.node.chain_call(lambda c: c.get_block_hash(n))
        if h is None:
            raise RestError(404, "Block height out of range")
        return {"blockhash": hash_to_hex(h)}

    def blocks(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """A page of active-chain blocks, newest first: `from` (height, default tip), `limit`."""
        limit = _int(query.get("limit", [None])[0], "limit", 10, 1, MAX_BLOCKS_PAGE)
        start_text = query.get("from", [None])[0]

        def run(c: Chain) -> list[dict[str, Any]]:
            start = _int(start_text, "from", c.height, 0, 2**31 - 1)
            out = []
            for height in range(min(start, c.height), max(-1, start - limit), -1):
                h = c.get_block_hash(height)
                block = c.get_block(h) if h is not None else None
                if h is None or block is None:
                    continue
                out.append(
                    {
                        "hash": hash_to_hex(h),
                        "height": height,
                        "time": block.header.time,
                        "nTx": len(block.txs),
                        "size": block.size(),
                    }
                )
            return out

        return self.node.chain_call(run)

    def tx(self, query: dict[str, list[str]], txid: str) -> dict[str, Any]:
        """A transaction from the mempool or the active chain, with its block if confirmed."""
        h = _hash(txid, "txid")

        def run(c: Chain) -> dict[str, Any]:
            got = c.get_transaction(h)
            if got is None:
                raise RestError(404, f"{txid} not found")
            tx, where = got
            out = tx_json(tx, self.params) | {"hex": tx.serialize().hex()}
            if where is not None:
                info = c.get_header_info(where)
                out["blockhash"] = hash_to_hex(where)
                out["confirmations"] = c.height - info.height + 1 if info else 0
                out["blocktime"] = info.time if info else 0
            else:
                out["confirmations"] = 0
            return out

        return self.node.chain_call(run)

    def address(self, query: dict[str, list[str]], address: str) -> dict[str, Any]:
        """Balance, unspent outputs and transaction history of an address."""
        try:
            script = decode_address(address, self.params)
        except (ChainError, ValueError) as exc:
            raise RestError(400, f"Invalid address: {exc}") from None

        def run(c: Chain) -> dict[str, Any]:
            utxos = c.utxos_for_script(script)
            history = c.script_history(script)[-MAX_HISTORY:]
            pending = []
            for txid in c.mempool.txids():
                tx = c.mempool.get(txid)
                if tx is None:
                    continue
                pays = any(o.script_pubkey == script for o in tx.vout)
                spends = any(
                    (coin := c.get_utxo(i.prevout)) is not None and coin.script_pubkey == script
                    for i in tx.vin
                )
                if pays or spends:
                    pending.append(hash_to_hex(txid))
            return {
                "address": address,
                "scriptPubKey": script.hex(),
                "balance": amount(sum(coin.value for _, coin in utxos)),
                "utxos": [
                    {
                        "txid": hash_to_hex(op.txid),
                        "vout": op.vout,
                        "value": amount(coin.value),
                        "height": coin.height,
                        "coinbase": coin.is_coinbase,
                    }
                    for op, coin in utxos
                ],
                "history": [
                    {"txid": hash_to_hex(t), "blockhash": hash_to_hex(b), "height": hgt}
                    for t, b, hgt in reversed(history)
                ],
                "mempool": pending,
            }

        return self.node.chain_call(run)

    def mempool(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Mempool size and its transactions (txid, size, fee)."""

        def run(c: Chain) -> dict[str, Any]:
            entries = [c.mempool.entries[t] for t in c.mempool.txids()]
            return {
                "size": len(entries),
                "bytes": sum(e.size for e in entries),
                "total_fee": amount(sum(e.fee for e in entries)),
                "transactions": [
                    {
                        "txid": hash_to_hex(e.txid),
                        "size": e.size,
                        "fee": amount(e.fee),
                        "time": int(e.time),
                    }
                    for e in entries
                ],
            }

        return self.node.chain_call(run)

    def chaintips(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Every leaf of the block tree (Core's getchaintips)."""
        return [chain_tip_json(t) for t in self.node.chain_call(lambda c: c.chain_tips())]
