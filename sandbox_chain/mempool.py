"""The memory pool: valid transactions waiting for a block, with Bitcoin Core's relay policy.

Follows Bitcoin Core `validation.cpp` (`MemPoolAccept::PreChecks`, `PolicyScriptChecks`),
`policy/policy.cpp` (`IsStandardTx`, `IsDust`, `GetDustThreshold`) and `txmempool.cpp`
(`removeForBlock`, conflicts) for the legacy subset:

* consensus checks first (`check_transaction`), then policy: no coinbase ("coinbase"),
  standard version/size/scripts ("version", "tx-size", "scriptsig-size",
  "scriptsig-not-pushonly", "scriptpubkey", "multi-op-return", "dust"), finality ("non-final");
* duplicates: "txn-already-in-mempool" (already here) and "txn-already-known" (already
  confirmed: its outputs are in the UTXO set); a second spend of an output a mempool
  transaction spends: "txn-mempool-conflict" (no replace-by-fee);
* inputs may come from the chain or from other mempool transactions (chains of unconfirmed
  transactions); fees must meet the minimum relay fee ("min relay fee not met").

Block templates take transactions by ancestor fee rate (a child paying for its parent lifts
both), parents always before their children.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import script as script_mod
from .errors import ValidationError
from .params import NetworkParams
from .transaction import Transaction
from .utxo import Coin, CoinsView, OutKey
from .validation import (
    check_input_scripts,
    check_transaction,
    check_tx_inputs,
    is_final_tx,
    legacy_sigop_count,
    require_coins,
    tx_legacy_sigops,
)

MEMPOOL_HEIGHT = 0x7FFFFFFF  # height given to coins created by unconfirmed transactions
MIN_RELAY_FEE_PER_KB = 1_000  # satoshis per 1,000 bytes (Core's DEFAULT_MIN_RELAY_TX_FEE)
DUST_RELAY_FEE_PER_KB = 3_000  # Core's DUST_RELAY_TX_FEE
MAX_STANDARD_TX_SIZE = 100_000  # MAX_STANDARD_TX_WEIGHT / 4 for transactions without witness
MAX_STANDARD_SCRIPTSIG_SIZE = 1_650
MAX_OP_RETURN_RELAY = 83  # bytes of a standard OP_RETURN script


@dataclass
class MempoolEntry:
    """One transaction in the pool, with what ordering and eviction need."""

    tx: Transaction
    txid: bytes
    fee: int  # satoshis
    size: int  # serialized bytes
    sigops: int
    time: float  # when it entered the pool
    seq: int  # arrival order (parents always have a lower seq than their children)
    parents: set[bytes] = field(default_factory=set)  # txids of in-pool parents
    children: set[bytes] = field(default_factory=set)

    @property
    def fee_rate(self) -> float:
        """Satoshis per byte."""
        return self.fee / self.size


@dataclass
class ChainContext:
    """What the pool needs to know about the chain to judge a transaction."""

    coins: CoinsView  # the UTXO set at the tip
    next_height: int  # height of the block that would include the transaction
    median_time_past: int  # of the tip, for lock-time finality (BIP113)
    params: NetworkParams


def dust_threshold(value_script: bytes) -> int:
    """Core's `GetDustThreshold` (non-segwit): spending the output would cost more than it holds."""
    if value_script[:1] == b"\x6a":
        return 0  # OP_RETURN outputs are unspendable, never dust
    out_size = 8 + 1 + len(value_script)  # value, CompactSize (scripts here are short), script
    return (out_size + 148) * DUST_RELAY_FEE_PER_KB // 1000


def check_standard(tx: Transaction, size: int) -> None:
    """`IsStandardTx` for the legacy subset; raise ValidationError(level="policy")."""
    if not 1 <= tx.version <= 2:
        raise ValidationError("version", level="policy")
    if size > MAX_STANDARD_TX_SIZE:
        raise ValidationError("tx-size", level="policy")
    for txin in tx.vin:
        if len(txin.script_sig) > MAX_STANDARD_SCRIPTSIG_SIZE:
            raise ValidationError("scriptsig-size", level="policy")
        if not script_mod.is_push_only(txin.script_sig):
            raise ValidationError("scriptsig-not-pushonly", level="policy")
    data_outputs = 0
    for txout in tx.vout:
        kind, _ = script_mod.classify(txout.script_pubkey)
        if kind == "nonstandard":
            raise ValidationError("scriptpubkey", level="policy")
        if kind == "nulldata":
            if len(txout.script_pubkey) > MAX_OP_RETURN_RELAY:
                raise ValidationError("scriptpubkey", level="policy")
            data_outputs += 1
        elif txout.value < dust_threshold(txout.script_pubkey):
            raise ValidationError("dust", level="policy")
    if data_outputs > 1:
        raise ValidationError("multi-op-return", level="policy")


class _PoolView:
    """The chain's coins plus the outputs of mempool transactions."""

    def __init__(self, pool: Mempool, base: CoinsView) -> None:
        self.pool = pool
        self.base = base

    def get_coin(self, key: OutKey) -> Coin | None:
        """A chain coin, or an unspent output of a mempool transaction (at MEMPOOL_HEIGHT)."""
        entry = self.pool.entries.get(key[0])
        if entry is not None:
            if key[1] >= len(entry.tx.vout) or key in self.pool.spenders:
                return None
            out = entry.tx.vout[key[1]]
            return Coin(out.value, out.script_pubkey, MEMPOOL_HEIGHT, False)
        return self.base.get_coin(key)


class Mempool:
    """Unconfirmed transactions, indexed by txid and by the outpoints they spend."""

    def __init__(self) -> None:
        self.entries: dict[bytes, MempoolEntry] = {}
        self.spenders: dict[OutKey, bytes] = {}  # outpoint -> txid of the pool tx spending it
        self._seq = 0

    # --- queries --------------------------------------------------------------------------

    def txids(self) -> list[bytes]:
        """Txids in arrival order."""
        return [e.txid for e in sorted(self.entries.values(), key=lambda e: e.seq)]

    def get(self, txid: bytes) -> Transaction | None:
        """The transaction with this txid, or None."""
        entry = self.entries.get(txid)
        return None if entry is None else entry.tx

    def __contains__(self, txid: object) -> bool:
        return txid in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def snapshot(self) -> frozenset[bytes]:
        """The set of txids (tests compare snapshots before and after a rejected change)."""
        return frozenset(self.entries)

    # --- acceptance -----------------------------------------------------------------------

    def accept(
        self,
        tx: Transaction,
        ctx: ChainContext,
        *,
        script_cache: set[tuple[bytes, int]] | None = None,
        now: Callable[[], float] = time.time,
    ) -> MempoolEntry:
        """Validate `tx` against the chain and the pool, and add it; raise ValidationError.

        The pool is unchanged when this raises.
        """
        raw = tx.serialize_legacy()
        check_transaction(tx, len(raw))
        if tx.is_coinbase():
            raise ValidationError("coinbase", "coinbase transactions are never relayed")
        check_standard(tx, len(raw))
        if not is_final_tx(tx, ctx.next_height, ctx.median_time_past):
            raise ValidationError("non-final", level="policy")
        txid = tx.txid()
        if txid in self.entries:
            raise ValidationError("txn-already-in-mempool", level="policy")
        keys = [(i.prevout.txid, i.prevout.vout) for i in tx.vin]
        for key in keys:
            if key in self.spenders:
                raise ValidationError(
                    "txn-mempool-conflict", f"{key[0][::-1].hex()}:{key[1]}", level="policy"
                )
        view = _PoolView(self, ctx.coins)
        spent = [view.get_coin(k) for k in keys]
        if any(c is None for c in spent):
            # Core: a transaction whose own outputs are already unspent coins is already known.
            if any(ctx.coins.get_coin((txid, n)) is not None for n in range(len(tx.vout))):
                raise ValidationError("txn-already-known", level="policy")
            raise ValidationError(
                "bad-txns-inputs-missingorspent", "inputs missing/spent", level="state"
            )
        coins = require_coins(spent)
        fee = check_tx_inputs(tx, coins, ctx.next_height, ctx.params)
        min_fee = len(raw) * MIN_RELAY_FEE_PER_KB // 1000
        if fee < min_fee:
            raise ValidationError("min relay fee not met", f"{fee} < {min_fee}", level="policy")
        sigops = tx_legacy_sigops(tx) + sum(legacy_sigop_count(c.script_pubkey) for c in coins)
        flags = script_mod.STANDARD_FLAGS
        if script_cache is None or (txid, flags) not in script_cache:
            check_input_scripts(tx, coins, flags, script_mod.MANDATORY_FLAGS)
            if script_cache is not None:
                # Scripts valid under the standard flags are valid under the block flags too.
                script_cache.add((txid, flags))
                script_cache.add((txid, script_mod.MANDATORY_FLAGS))
        self._seq += 1
        entry = MempoolEntry(tx, txid, fee, len(raw), sigops, now(), self._seq)
        for key in keys:
            self.spenders[key] = txid
            if key[0] in self.entries:
                entry.parents.add(key[0])
                self.entries[key[0]].children.add(txid)
        self.entries[txid] = entry
        return entry

    # --- removal --------------------------------------------------------------------------

    def _remove_one(self, txid: bytes) -> None:
        entry = self.entries.pop(txid)
        for txin in entry.tx.vin:
            key = (txin.prevout.txid, txin.prevout.vout)
            if self.spenders.get(key) == txid:
                del self.spenders[key]
        for parent in entry.parents:
            if parent in self.entries:
                self.entries[parent].children.discard(txid)
        for child in entry.children:
            if child in self.entries:
                self.entries[child].parents.discard(txid)

    def remove_with_descendants(self, txid: bytes) -> list[bytes]:
        """Remove a transaction and everything spending its outputs; return removed txids."""
        removed: list[bytes] = []
        stack = [txid]
        while stack:
            t = stack.pop()
            if t not in self.entries:
                continue
            stack.extend(self.entries[t].children)
            self._remove_one(t)
            removed.append(t)
        return removed

    def remove_for_block(self, txs: Iterable[Transaction], txids: Iterable[bytes]) -> None:
        """A block confirmed `txs`: drop them, and evict pool transactions that now conflict."""
        for txid in txids:
            if txid in self.entries:
                # Its children stay: their parent is now confirmed, no longer in the pool.
                self._remove_one(txid)
        for tx in txs:
            if tx.is_coinbase():
                continue
            for txin in tx.vin:
                other = self.spenders.get((txin.prevout.txid, txin.prevout.vout))
                if other is not None:
                    self.remove_with_descendants(other)

    def clear(self) -> list[Transaction]:
        """Empty the pool; return its transactions in arrival order (for re-validation)."""
        txs = [self.entries[t].tx for t in self.txids()]
        self.entries.clear()
        self.spenders.clear()
        return txs

    # --- block templates ------------------------------------------------------------------

    def _ancestors(self, txid: bytes) -> set[bytes]:
        seen: set[bytes] = set()
        stack = list(self.entries[txid].parents)
        while stack:
            t = stack.pop()
            if t in seen or t not in self.entries:
                continue
            seen.add(t)
            stack.extend(self.entries[t].parents)
        return seen

    def block_template(self, max_size: int, max_sigops: int) -> list[MempoolEntry]:
        """Entries for a block: highest ancestor fee rate first, parents before children."""
        scores = []
        for txid, entry in self.entries.items():
            anc = self._ancestors(txid)
            fee = entry.fee + sum(self.entries[a].fee for a in anc)
            size = entry.size + sum(self.entries[a].size for a in anc)
            scores.append((-fee / size, entry.seq, txid))
        scores.sort()
        chosen: list[MempoolEntry] = []
        included: set[bytes] = set()
        total_size = total_sigops = 0
        for _, _, txid in scores:
            if txid in included:
                continue
            package = [self.entries[a] for a in self._ancestors(txid) if a not in included]
            package.append(self.entries[txid])
            package.sort(key=lambda e: e.seq)  # parents arrived before their children
            size = sum(e.size for e in package)
            sigops = sum(e.sigops for e in package)
            if total_size + size > max_size or total_sigops + sigops > max_sigops:
                continue
            total_size += size
            total_sigops += sigops
            for e in package:
                included.add(e.txid)
                chosen.append(e)
        return chosen
