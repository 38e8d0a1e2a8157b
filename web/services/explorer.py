"""The learner's block explorer: search resolution, and the node reads behind each page.

Everything here reads the sandbox node through `web.services.node.NodeClient` (JSON-RPC in
Bitcoin Core's shapes, plus the REST API for an address's history) and returns the view-models
of `web.services.explorer_models`. Nothing here imports Flask.

Errors: a query that cannot be a height, hash, txid or address is `BadQuery` (HTTP 400), a
well-formed one that names nothing on the chain is `NotFound` (404); both carry a message id and
its parameters so the portal can show it in the learner's language. A node that cannot be reached
raises `web.services.node.NodeUnavailable` (503).
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from sandbox_chain.pow import bits_to_target

from .explorer_models import (
    N_,
    AddressView,
    BlockSummary,
    BlockView,
    ChainSummary,
    ChainTip,
    MempoolEntry,
    MempoolView,
    Page,
    Script,
    Target,
    TxInput,
    TxOutput,
    TxSummary,
    TxView,
    Utxo,
    script_tokens,
)
from .node import NodeClient, NodeRestError, RPCError, segment

T = TypeVar("T")

RPC_NOT_FOUND = -5  # Core's RPC_INVALID_ADDRESS_OR_KEY: no such block or transaction
RPC_BAD_PARAMETER = -8  # Core's RPC_INVALID_PARAMETER: e.g. height out of range
PAGE_SIZE = 25
MAX_QUERY = 120
MAX_PAGE = 100_000
MAX_HEIGHT = 2**31 - 1
MAX_LOOKUPS = 200  # prevouts / output states fetched for one transaction page
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEIGHT = re.compile(r"^[0-9]{1,10}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{20,40}$")


class ExplorerError(Exception):
    """A search or page request the explorer refuses; `status` is the HTTP status to answer."""

    status = 400

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid  # an English message with %(name)s placeholders (the catalog's id)
        self.params = params
        super().__init__(msgid % params)


class BadQuery(ExplorerError):
    """The input cannot be what was asked for (not a height, hash, txid, address or page)."""

    status = 400


class NotFound(ExplorerError):
    """Well-formed, but nothing on the node has it."""

    status = 404


def _script(raw: dict[str, Any]) -> Script:
    asm = str(raw.get("asm", ""))
    return Script(
        hex=str(raw.get("hex", "")),
        asm=asm,
        tokens=script_tokens(asm),
        type=raw.get("type"),
        address=raw.get("address"),
        desc=raw.get("desc"),
    )


def _whole(text: str | int | None, lo: int, hi: int) -> int | None:
    s = str(text)
    return int(s) if _HEIGHT.match(s) and lo <= int(s) <= hi else None


def page_number(text: str | int | None) -> int:
    """A `?page=` argument: 1 by default, `BadQuery` for anything but 1..MAX_PAGE."""
    if text is None or text == "":
        return 1
    number = _whole(text, 1, MAX_PAGE)
    if number is None:
        raise BadQuery(N_("The page number must be a whole number from 1 to %(hi)s."), hi=MAX_PAGE)
    return number


def _slice(items: list[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    start = (number - 1) * size
    if number > 1 and start >= len(items):
        raise NotFound(N_("There is no page %(page)s here."), page=number)
    return Page(items[start : start + size], number, size, len(items))


def _hash_arg(text: str, msgid: str) -> str:
    if not _HEX64.match(text or ""):
        raise BadQuery(msgid)
    return text.lower()


def _coins(value: Any) -> Decimal:
    return Decimal(str(value))


def _not_found(err: RPCError) -> bool:
    return err.code in (RPC_NOT_FOUND, RPC_BAD_PARAMETER)


# --- the explorer ---------------------------------------------------------------------------


class Explorer:
    """Reads the node for the explorer's pages. One per request (it holds a `NodeClient`)."""

    def __init__(self, node: NodeClient, page_size: int = PAGE_SIZE) -> None:
        self.node = node
        self.page_size = page_size

    # search

    def search(self, query: str) -> Target:
        """Resolve a height, block hash, txid or address to the page that shows it."""
        q = (query or "").strip()
        if not q:
            raise BadQuery(N_("Type a block height, a block hash, a txid or an address."))
        if len(q) > MAX_QUERY:
            raise BadQuery(N_("That is too long to be a height, a hash, a txid or an address."))
        if _HEIGHT.match(q):
            return Target("block", self.block_hash_at(int(q)))
        if _HEX64.match(q):
            h = q.lower()
            try:
                self.node.call("getblockheader", h, True)
                return Target("block", h)
            except RPCError as err:
                if not _not_found(err):
                    raise
            try:
                self.node.call("getrawtransaction", h, 0)
                return Target("tx", h)
            except RPCError as err:
                if not _not_found(err):
                    raise
            raise NotFound(N_("No block or transaction has the hash %(hash)s."), hash=h)
        if _BASE58.match(q):
            check = self.node.call("validateaddress", q)
            if check.get("isvalid"):
                return Target("address", q)
            raise BadQuery(
                N_("%(query)s is not an address of this network: %(reason)s"),
                query=q,
                reason=str(check.get("error", "")).removeprefix("Invalid address: "),
            )
        raise BadQuery(
            N_("%(query)s is not a block height, a 64-digit hash or txid, nor an address."), query=q
        )

    def block_hash_at(self, height: int | str) -> str:
        """The active chain's block hash at a height (`NotFound` above the tip)."""
        n = _whole(height, 0, MAX_HEIGHT)
        if n is None:
            raise BadQuery(N_("A block height is a whole number from 0 to %(hi)s."), hi=MAX_HEIGHT)
        try:
            return str(self.node.call("getblockhash", n))
        except RPCError as err:
            if not _not_found(err):
                raise
        tip = self.node.call("getblockcount")
        raise NotFound(
            N_("No block at height %(height)s: the tip is at height %(tip)s."), height=n, tip=tip
        )

    # pages

    def summary(self, recent: int = 10) -> ChainSummary:
        """The chain now (tip, difficulty, mempool, tips) and its `recent` latest blocks."""
        info, pool, tips = self._batch(
            ("getblockchaininfo",), ("getmempoolinfo",), ("getchaintips",)
        )
        blocks = self.node.rest("blocks", limit=recent)
        return ChainSummary(
            network=str(info["chain"]),
            height=int(info["blocks"]),
            best_hash=str(info["bestblockhash"]),
            difficulty=float(info["difficulty"]),
            chainwork=str(info["chainwork"]),
            mempool_size=int(pool["size"]),
            mempool_bytes=int(pool["bytes"]),
            tips=len(tips),
            recent=[
                BlockSummary(b["height"], b["hash"], b["time"], b["nTx"], b["size"]) for b in blocks
            ],
        )

    def block(self, blockhash: str, page: int = 1) -> BlockView:
        """A block by hash, with one page of its transactions (fees included)."""
        h = _hash_arg(blockhash, N_("A block hash is 64 hexadecimal digits."))
        try:
            b = self.node.call("getblock", h, 2)
        except RPCError as err:
            if _not_found(err):
                raise NotFound(N_("No block has the hash %(hash)s."), hash=h) from None
            raise
        txs = [self._tx_summary(t) for t in b["tx"]]
        target, _, _ = bits_to_target(int(b["bits"], 16))
        return BlockView(
            hash=b["hash"],
            height=b["height"],
            confirmations=b["confirmations"],
            version=b["version"],
            merkleroot=b["merkleroot"],
            time=b["time"],
            mediantime=b["mediantime"],
            nonce=b["nonce"],
            bits=b["bits"],
            target=f"{target:064x}",
            difficulty=float(b["difficulty"]),
            chainwork=b["chainwork"],
            size=b["size"],
            n_tx=b["nTx"],
            previous=b.get("previousblockhash"),
            next=b.get("nextblockhash"),
            txs=_slice(txs, page, self.page_size),
        )

    def transaction(self, txid: str) -> TxView:
        """A transaction from the chain or the mempool: inputs with the outputs they spend,
        outputs with their state, fee and confirmations."""
        h = _hash_arg(txid, N_("A txid is 64 hexadecimal digits."))
        try:
            tx = self.node.call("getrawtransaction", h, 2)
        except RPCError as err:
            if _not_found(err) and "genesis" in err.message:
                raise NotFound(
                    N_(
                        "%(txid)s is the genesis block's coinbase. It is not an ordinary "
                        "transaction: its output never entered the UTXO set, so nodes do not "
                        "serve it. It is the only transaction of block 0."
                    ),
                    txid=h,
                ) from None
            if _not_found(err):
                raise NotFound(N_("No transaction has the txid %(txid)s."), txid=h) from None
            raise
        coinbase = "coinbase" in tx["vin"][0]
        prevouts = self._prevouts(tx)
        inputs = []
        for i, vin in enumerate(tx["vin"]):
            if "coinbase" in vin:
                inputs.append(TxInput(i, vin["sequence"], coinbase=vin["coinbase"]))
                continue
            prev = prevouts[i]
            spk = prev["scriptPubKey"] if prev else None
            inputs.append(
                TxInput(
                    index=i,
                    sequence=vin["sequence"],
                    prev_txid=vin["txid"],
                    prev_vout=vin["vout"],
                    script_sig=_script(vin["scriptSig"]),
                    value=_coins(prev["value"]) if prev else None,
                    address=spk.get("address") if spk else None,
                    prev_script=_script(spk) if spk else None,
                )
            )
        states = self._output_states(h, tx["vout"])
        outputs = [
            TxOutput(o["n"], _coins(o["value"]), _script(o["scriptPubKey"]), states[k])
            for k, o in enumerate(tx["vout"])
        ]
        total_out = sum((o.value for o in outputs), Decimal(0))
        known = [i.value for i in inputs if i.value is not None]
        total_in = None
        if not coinbase and len(known) == len(inputs):
            total_in = sum(known, Decimal(0))
        fee = _coins(tx["fee"]) if "fee" in tx else None
        if fee is None and total_in is not None:
            fee = total_in - total_out
        block_hash = tx.get("blockhash")
        height = None
        if block_hash is not None:
            height = self.node.call("getblockheader", block_hash, True)["height"]
        return TxView(
            txid=tx["txid"],
            version=tx["version"],
            size=tx["size"],
            locktime=tx["locktime"],
            coinbase=coinbase,
            inputs=inputs,
            outputs=outputs,
            total_out=total_out,
            total_in=total_in,
            fee=fee,
            confirmations=int(tx.get("confirmations", 0)),
            block_hash=block_hash,
            block_height=height,
            block_time=tx.get("blocktime"),
            hex=tx["hex"],
        )

    def address(self, address: str, page: int = 1) -> AddressView:
        """An address: balance, unspent outputs, and a page of its history with amounts."""
        if not _BASE58.match(address or ""):
            raise BadQuery(N_("%(query)s is not an address."), query=(address or "")[:MAX_QUERY])
        try:
            a = self.node.rest("address/" + segment(address))
        except NodeRestError as err:
            raise BadQuery(
                N_("%(query)s is not an address of this network: %(reason)s"),
                query=address,
                reason=err.message.removeprefix("Invalid address: "),
            ) from None
        script = str(a["scriptPubKey"])
        history = [(h["txid"], h["height"]) for h in a["history"]]
        shown = _slice(history, page, self.page_size)
        confirmed = self._summaries_for(script, [t for t, _ in shown.items])
        items = [
            replace(s, height=height)
            for s, (_, height) in zip(confirmed, shown.items, strict=True)
            if s is not None
        ]
        pending = [s for s in self._summaries_for(script, list(a["mempool"])) if s is not None]
        return AddressView(
            address=str(a["address"]),
            script_pubkey=script,
            balance=_coins(a["balance"]),
            utxos=[
                Utxo(u["txid"], u["vout"], _coins(u["value"]), u["height"], u["coinbase"])
                for u in a["utxos"]
            ],
            history=Page(items, shown.number, shown.size, shown.total),
            pending=pending,
            pending_delta=sum((p.delta or Decimal(0) for p in pending), Decimal(0)),
        )

    def mempool(self, page: int = 1) -> MempoolView:
        """Unconfirmed transactions, newest first, with their fees."""
        raw = self.node.call("getrawmempool", True)
        entries = sorted(
            (
                MempoolEntry(
                    txid,
                    int(e["vsize"]),
                    _coins(e["fees"]["base"]),
                    int(e["time"]),
                    len(e.get("depends", [])),
                )
                for txid, e in raw.items()
            ),
            key=lambda e: (-e.time, e.txid),
        )
        return MempoolView(
            size=len(entries),
            bytes=sum(e.size for e in entries),
            total_fee=sum((e.fee for e in entries), Decimal(0)),
            entries=_slice(entries, page, self.page_size),
        )

    def tips(self) -> list[ChainTip]:
        """Every chain tip: the active one, forks, headers-only and invalid branches."""
        return [
            ChainTip(t["height"], t["hash"], t["branchlen"], t["status"])
            for t in self.node.call("getchaintips")
        ]

    # internals

    def _batch(self, *calls: tuple[Any, ...]) -> list[Any]:
        results = self.node.batch(list(calls))
        for r in results:
            if isinstance(r, RPCError):
                raise r
        return results

    @staticmethod
    def _tx_summary(tx: dict[str, Any]) -> TxSummary:
        return TxSummary(
            txid=tx["txid"],
            coinbase="coinbase" in tx["vin"][0],
            n_in=len(tx["vin"]),
            n_out=len(tx["vout"]),
            total_out=sum((_coins(o["value"]) for o in tx["vout"]), Decimal(0)),
            fee=_coins(tx["fee"]) if "fee" in tx else None,
        )

    def _prevouts(self, tx: dict[str, Any]) -> list[dict[str, Any] | None]:
        """The output each input spends ({value, scriptPubKey}); from the node's verbosity-2
        answer for a confirmed transaction, else looked up in the parents (mempool ones too)."""
        vin = tx["vin"]
        if all("prevout" in i or "coinbase" in i for i in vin):
            return [i.get("prevout") for i in vin]
        parents = sorted({i["txid"] for i in vin if "txid" in i})[:MAX_LOOKUPS]
        found = dict(
            zip(
                parents,
                self.node.batch([("getrawtransaction", p, 1) for p in parents]),
                strict=True,
            )
        )
        out: list[dict[str, Any] | None] = []
        for i in vin:
            parent = found.get(i.get("txid", ""))
            if isinstance(parent, dict) and i["vout"] < len(parent["vout"]):
                out.append(parent["vout"][i["vout"]])
            else:
                out.append(None)
        return out

    def _output_states(self, txid: str, vout: list[dict[str, Any]]) -> list[str | None]:
        """unspent / spent / unspendable (OP_RETURN) for each output; None past MAX_LOOKUPS."""
        asked = [o["n"] for o in vout[:MAX_LOOKUPS] if o["scriptPubKey"].get("type") != "nulldata"]
        answers = dict(
            zip(asked, self.node.batch([("gettxout", txid, n, True) for n in asked]), strict=True)
        )
        states: list[str | None] = []
        for o in vout:
            if o["scriptPubKey"].get("type") == "nulldata":
                states.append("unspendable")
            elif o["n"] not in answers or isinstance(answers[o["n"]], RPCError):
                states.append(None)
            else:
                states.append("spent" if answers[o["n"]] is None else "unspent")
        return states

    def _summaries_for(self, script: str, txids: list[str]) -> list[TxSummary | None]:
        """Summaries of `txids` with what each moved for the output script `script` (None for
        one the node no longer has: a pending transaction mined or evicted meanwhile)."""
        txs = self.node.batch([("getrawtransaction", t, 2) for t in txids])
        out: list[TxSummary | None] = []
        for tx in txs:
            if isinstance(tx, RPCError):
                out.append(None)
                continue
            summary = self._tx_summary(tx)
            gained = sum(
                (_coins(o["value"]) for o in tx["vout"] if o["scriptPubKey"]["hex"] == script),
                Decimal(0),
            )
            prevouts = [] if summary.coinbase else self._prevouts(tx)
            spent = sum(
                (
                    _coins(p["value"])
                    for p in prevouts
                    if p is not None and p["scriptPubKey"]["hex"] == script
                ),
                Decimal(0),
            )
            fee = summary.fee
            if fee is None and prevouts and all(p is not None for p in prevouts):
                fee = sum((_coins(p["value"]) for p in prevouts), Decimal(0)) - summary.total_out
            out.append(replace(summary, delta=gained - spent, fee=fee))
        return out
