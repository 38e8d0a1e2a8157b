"""Reading (and, for issuers, writing) the sandbox chain: a node by RPC or REST, or a `Chain`.

The verifier asks three things of a chain — a transaction and the block holding it, that block's
place in the best chain, and the outputs the transaction spent — and trusts none of the answers
beyond what it checks itself: it parses the raw transaction, finds its txid in the block's list,
and reads each spent output from the transaction that created it.

* `RestSource` — a node's read-only REST API (`/rest/tx/<txid>`, `/rest/block/<hash>`), the
  interface Bitcoin Core offers without credentials: what an employer's verifier uses.
* `RPCSource` — JSON-RPC in Bitcoin Core's dialect (`getrawtransaction`, `getblock`,
  `scantxoutset`, `sendrawtransaction`): what the issuer uses to anchor.
* `LocalSource` — an in-process `sandbox_chain.chainstate.Chain` (a notebook, the tests).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from sandbox_chain.encoding import hash_to_hex, hex_to_hash
from sandbox_chain.errors import ChainError, ValidationError
from sandbox_chain.transaction import Transaction
from sandbox_chain.wallet import Coin, chain_coins

from .errors import AnchorError, ChainLookupError

HTTP_TIMEOUT = 10.0
MAX_REST_BYTES = 32 << 20


@dataclass(frozen=True)
class BlockFacts:
    """A block as a node describes it."""

    hash: str
    height: int
    confirmations: int  # -1 when the block is not on the best chain (Core's convention)
    time: int
    txids: list[str]


class ChainSource(Protocol):
    """What the verifier and the anchoring code ask of a chain."""

    network: str

    def transaction(self, txid: str) -> tuple[Transaction, str | None] | None:
        """(transaction, hash of the best-chain block holding it or None if unconfirmed)."""
        ...

    def block(self, block_hash: str) -> BlockFacts | None:
        """A block by hash, or None if the node does not know it."""
        ...


class Broadcaster(ChainSource, Protocol):
    """A chain an issuer can spend on."""

    def coins(self, script_pubkey: bytes) -> list[Coin]:
        """Spendable confirmed coins locked by `script_pubkey`."""
        ...

    def broadcast(self, tx: Transaction) -> str:
        """Send a transaction; its txid (`AnchorError` with the node's reject reason)."""
        ...


def _parse_tx(hex_text: Any) -> Transaction:
    try:
        return Transaction.from_hex(str(hex_text))
    except (ChainError, ValueError) as exc:
        raise ChainLookupError(f"the node returned an unparsable transaction: {exc}") from None


class LocalSource:
    """An in-process chain."""

    def __init__(self, chain: Any) -> None:
        self.chain = chain
        self.network = chain.params.name

    def transaction(self, txid: str) -> tuple[Transaction, str | None] | None:
        """See `ChainSource.transaction`."""
        got = self.chain.get_transaction(hex_to_hash(txid))
        if got is None:
            return None
        tx, block = got
        return tx, None if block is None else hash_to_hex(block)

    def block(self, block_hash: str) -> BlockFacts | None:
        """See `ChainSource.block`."""
        h = hex_to_hash(block_hash)
        info = self.chain.get_header_info(h)
        block = self.chain.get_block(h) if info else None
        if info is None or block is None:
            return None
        active = info.status == "active"
        return BlockFacts(
            block_hash,
            info.height,
            self.chain.height - info.height + 1 if active else -1,
            block.header.time,
            [t.txid_hex for t in block.txs],
        )

    def coins(self, script_pubkey: bytes) -> list[Coin]:
        """See `Broadcaster.coins` (unconfirmed change of earlier anchors counts too)."""
        coins, _ = chain_coins(self.chain, [script_pubkey], unconfirmed=True)
        return coins

    def broadcast(self, tx: Transaction) -> str:
        """See `Broadcaster.broadcast`."""
        try:
            return hash_to_hex(self.chain.accept_to_mempool(tx))
        except ValidationError as exc:
            raise AnchorError(f"the chain rejected the anchor transaction: {exc.reason}") from None


class RPCSource:
    """A node's JSON-RPC interface (`sandbox_chain.node.client.RPCClient` or compatible)."""

    def __init__(self, client: Any, network: str = "regtest") -> None:
        self.client = client
        self.network = network

    def _call(self, method: str, *params: Any) -> Any:
        from sandbox_chain.node.client import RPCConnectionError
        from sandbox_chain.node.rpc import RPCError

        try:
            return self.client.call(method, *params)
        except RPCError as exc:
            if exc.code == -5:  # RPC_INVALID_ADDRESS_OR_KEY: no such transaction or block
                return None
            raise ChainLookupError(f"{method}: the node answered {exc.code} {exc}") from None
        except RPCConnectionError as exc:
            raise ChainLookupError(f"cannot reach the node: {exc}") from None

    def transaction(self, txid: str) -> tuple[Transaction, str | None] | None:
        """See `ChainSource.transaction`."""
        got = self._call("getrawtransaction", txid, 1)
        if got is None:
            return None
        block = got.get("blockhash") if got.get("confirmations", 0) else None
        return _parse_tx(got.get("hex")), block

    def block(self, block_hash: str) -> BlockFacts | None:
        """See `ChainSource.block`."""
        got = self._call("getblock", block_hash, 1)
        if got is None:
            return None
        return BlockFacts(
            block_hash,
            int(got["height"]),
            int(got["confirmations"]),
            int(got["time"]),
            list(got["tx"]),
        )

    def coins(self, script_pubkey: bytes) -> list[Coin]:
        """See `Broadcaster.coins` (Core's `scantxoutset`; mempool spends left out)."""
        scan = self._call("scantxoutset", "start", [f"raw({script_pubkey.hex()})"])
        if scan is None:
            raise ChainLookupError("scantxoutset failed")
        height = int(scan["height"])
        coins = []
        for u in scan["unspents"]:
            if u.get("coinbase") and height + 1 - int(u["height"]) < 100:
                continue
            if self._call("gettxout", u["txid"], u["vout"], True) is None:
                continue
            value = int(Decimal(str(u["amount"])) * 100_000_000)
            coins.append(Coin(hex_to_hash(u["txid"]), int(u["vout"]), value, script_pubkey))
        return coins

    def broadcast(self, tx: Transaction) -> str:
        """See `Broadcaster.broadcast`."""
        from sandbox_chain.node.client import RPCConnectionError
        from sandbox_chain.node.rpc import RPCError

        try:
            return str(self.client.call("sendrawtransaction", tx.serialize().hex()))
        except RPCError as exc:
            raise AnchorError(f"the node rejected the anchor transaction: {exc}") from None
        except RPCConnectionError as exc:
            raise AnchorError(f"cannot reach the node: {exc}") from None


class RestSource:
    """A node's REST API at `base_url` (e.g. `http://127.0.0.1:18443`): no credentials."""

    def __init__(self, base_url: str, network: str = "regtest") -> None:
        self.base_url = base_url.rstrip("/")
        self.network = network

    def _get(self, path: str) -> Any:
        url = f"{self.base_url}/rest/{path}"
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310
                return json.loads(resp.read(MAX_REST_BYTES))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise ChainLookupError(f"{url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ChainLookupError(f"cannot read {url}: {exc}") from None

    def transaction(self, txid: str) -> tuple[Transaction, str | None] | None:
        """See `ChainSource.transaction`."""
        got = self._get(f"tx/{txid}.json")
        if got is None:
            return None
        return _parse_tx(got.get("hex")), got.get("blockhash")

    def block(self, block_hash: str) -> BlockFacts | None:
        """See `ChainSource.block`."""
        got = self._get(f"block/{block_hash}.json")
        if got is None:
            return None
        txids = [t["txid"] if isinstance(t, dict) else t for t in got["tx"]]
        return BlockFacts(
            block_hash, int(got["height"]), int(got["confirmations"]), int(got["time"]), txids
        )
