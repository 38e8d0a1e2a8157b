"""Reading the chain state: blocks, transactions, coins, tips and locators.

The read side of `chainstate.Chain`, kept apart from the code that changes the state. Follows
Bitcoin Core's RPC semantics where it mirrors one (`getchaintips` statuses, the block locator of
`CChain::GetLocator`). `DbCoins` is the UTXO set in SQLite behind a read-through memory cache;
the cache only ever holds what the database holds after a COMMIT.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .block import Block
from .blockindex import STATUS_FAILED_MASK, STATUS_VALID
from .transaction import OutPoint, Transaction
from .utxo import Coin, OutKey

if TYPE_CHECKING:
    from .blockindex import IndexEntry
    from .mempool import Mempool
    from .storage import Storage

CACHE_LIMIT = 200_000  # coins kept in memory before the cache is emptied and refilled


class DbCoins:
    """The UTXO table as a coins view, with a read-through cache."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.cache: dict[OutKey, Coin] = {}

    def get_coin(self, key: OutKey) -> Coin | None:
        """The unspent coin at `key`, or None."""
        coin = self.cache.get(key)
        if coin is not None:
            return coin
        row = self.conn.execute(
            "SELECT value, script, height, coinbase FROM utxo WHERE txid=? AND vout=?", key
        ).fetchone()
        if row is None:
            return None
        coin = Coin(row[0], bytes(row[1]), row[2], bool(row[3]))
        if len(self.cache) >= CACHE_LIMIT:
            self.cache.clear()
        self.cache[key] = coin
        return coin

    def apply(self, changes: dict[OutKey, Coin | None]) -> None:
        """Mirror changes just written to the database."""
        for key, coin in changes.items():
            if coin is None:
                self.cache.pop(key, None)
            else:
                self.cache[key] = coin


@dataclass(frozen=True)
class BlockInfo:
    """What the index knows about a block (`getblockheader`-like)."""

    hash: bytes
    prev_hash: bytes
    height: int
    chainwork: int
    status: str  # "active", "valid-fork", "valid-headers" or "invalid"
    time: int
    bits: int


@dataclass(frozen=True)
class ChainTip:
    """One leaf of the block tree, as Core's `getchaintips` reports it."""

    hash: bytes
    height: int
    branchlen: int  # blocks between the tip and the active chain
    status: str  # "active", "valid-fork", "valid-headers" or "invalid"


class ChainQueries:
    """Read-only queries; mixed into `Chain`, which provides the attributes below."""

    storage: Storage
    mempool: Mempool
    _index: dict[bytes, IndexEntry]
    _children: dict[bytes, list[bytes]]
    _active: list[bytes]
    _coins: DbCoins

    def is_active(self, block_hash: bytes) -> bool:
        """True if the block is on the active chain."""
        e = self._index.get(block_hash)
        return (
            e is not None and e.height < len(self._active) and self._active[e.height] == block_hash
        )

    def get_block(self, block_hash: bytes) -> Block | None:
        """The stored block with this hash, or None."""
        row = self.storage.conn.execute(
            "SELECT raw FROM blocks WHERE hash=?", (block_hash,)
        ).fetchone()
        return None if row is None else Block.parse(bytes(row[0]))

    def get_block_hash(self, height: int) -> bytes | None:
        """Hash of the active-chain block at `height`, or None above the tip."""
        return self._active[height] if 0 <= height < len(self._active) else None

    def _status(self, e: IndexEntry) -> str:
        if e.status & STATUS_FAILED_MASK:
            return "invalid"
        if self.is_active(e.hash):
            return "active"
        return "valid-fork" if e.status & STATUS_VALID else "valid-headers"

    def get_header_info(self, block_hash: bytes) -> BlockInfo | None:
        """Height, chainwork and status of a known block, or None."""
        e = self._index.get(block_hash)
        if e is None:
            return None
        return BlockInfo(e.hash, e.prev, e.height, e.chainwork, self._status(e), e.time, e.bits)

    def get_transaction(self, txid: bytes) -> tuple[Transaction, bytes | None] | None:
        """A mempool transaction (block None) or one in the active chain (with its block)."""
        tx = self.mempool.get(txid)
        if tx is not None:
            return tx, None
        row = self.storage.conn.execute(
            "SELECT block FROM txindex WHERE txid=?", (txid,)
        ).fetchone()
        if row is None:
            return None
        block_hash = bytes(row[0])
        block = self.get_block(block_hash)
        for t in block.txs if block else []:
            if t.txid() == txid:
                return t, block_hash
        return None

    def get_utxo(self, outpoint: OutPoint | OutKey) -> Coin | None:
        """The unspent coin at an outpoint of the active chain (mempool spends ignored)."""
        key = (outpoint.txid, outpoint.vout) if isinstance(outpoint, OutPoint) else outpoint
        return self._coins.get_coin(key)

    def utxos_for_script(self, script_pubkey: bytes) -> list[tuple[OutPoint, Coin]]:
        """Every unspent coin locked by exactly this script (a wallet's balance)."""
        # script_history records every transaction paying to the script: its unspent outputs
        # to that script are the coins (no index on utxo.script to maintain).
        rows = self.storage.conn.execute(
            "SELECT txid, vout, value, script, height, coinbase FROM utxo "
            "WHERE txid IN (SELECT txid FROM script_history WHERE script=?) AND script=? "
            "ORDER BY height, txid, vout",
            (script_pubkey, script_pubkey),
        )
        return [
            (OutPoint(bytes(t), v), Coin(val, bytes(s), h, bool(cb)))
            for t, v, val, s, h, cb in rows
        ]

    def script_history(self, script_pubkey: bytes) -> list[tuple[bytes, bytes, int]]:
        """(txid, block hash, height) of active-chain transactions paying to or spending from it."""
        rows = self.storage.conn.execute(
            "SELECT DISTINCT txid, block, height FROM script_history WHERE script=? "
            "ORDER BY height",
            (script_pubkey,),
        )
        return [(bytes(t), bytes(b), h) for t, b, h in rows]

    def utxo_count(self) -> int:
        """How many unspent outputs the active chain has."""
        return int(self.storage.conn.execute("SELECT COUNT(*) FROM utxo").fetchone()[0])

    def utxo_snapshot(self) -> dict[OutKey, Coin]:
        """The whole UTXO set (tests and the crash check compare it with a replay)."""
        return {
            (bytes(t), v): Coin(val, bytes(s), h, bool(cb))
            for t, v, val, s, h, cb in self.storage.conn.execute(
                "SELECT txid, vout, value, script, height, coinbase FROM utxo"
            )
        }

    def chain_tips(self) -> list[ChainTip]:
        """Every leaf of the block tree, the active tip first (Core's `getchaintips`)."""
        tips = []
        for e in self._index.values():
            if self._children.get(e.hash) and e.hash != self._active[-1]:
                continue
            fork = e
            while not self.is_active(fork.hash):
                fork = self._index[fork.prev]
            tips.append(ChainTip(e.hash, e.height, e.height - fork.height, self._status(e)))
        tips.sort(key=lambda t: (t.status != "active", -t.height))
        return tips

    def locator(self) -> list[bytes]:
        """Block hashes from the tip back to genesis, dense then exponentially sparse."""
        hashes = []
        step, height = 1, len(self._active) - 1
        while height > 0:
            hashes.append(self._active[height])
            if len(hashes) >= 10:
                step *= 2
            height -= step
        hashes.append(self._active[0])
        return hashes
