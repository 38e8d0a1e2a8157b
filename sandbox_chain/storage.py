"""On-disk chain state: one SQLite database per data directory.

Follows the durability rules of Bitcoin Core's block and chainstate databases, on SQLite:

* WAL journal with `synchronous=FULL`: a transaction is on disk when COMMIT returns, and a
  process killed at any moment leaves either the old or the new state, never a mix.
* One writer: the data directory is locked with `flock` on a `LOCK` file (released by the kernel
  when the process dies, so a crash never leaves a stale lock). A second `Chain.open` of the
  same directory raises `StorageError`.
* The connection runs with `isolation_level=None`; every change is wrapped in an explicit
  `BEGIN IMMEDIATE` … `COMMIT` by `Storage.transaction()`. Connecting a block, or a whole reorg
  (disconnects then connects), is one such transaction.
* Nothing is rewritten in place outside SQLite: there is no side file to corrupt.

Tables:

| table | content |
|---|---|
| `block_index` | every known block header: hash, prev, height, chainwork, status, seq |
| `blocks` | raw serialized blocks (for every block whose data we have) |
| `undo` | per connected block, the coins its inputs spent (to disconnect exactly) |
| `utxo` | the unspent outputs of the active chain |
| `active` | height → hash of the active chain |
| `txindex` | txid → block hash, for transactions in the active chain |
| `script_history` | script → (txid, block) for every output paid to / spent from a script |
| `mempool` | the mempool as it was at the last clean close (re-validated when opened) |
| `meta` | the chain tip and the network name |
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StorageError

DB_NAME = "chain.sqlite"
LOCK_NAME = "LOCK"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS block_index (
    hash BLOB PRIMARY KEY,
    prev BLOB NOT NULL,
    height INTEGER NOT NULL,
    chainwork BLOB NOT NULL,      -- 32-byte big-endian total work up to and including this block
    status INTEGER NOT NULL,      -- bit flags, see blockindex.STATUS_*
    seq INTEGER NOT NULL,         -- arrival order: among equal work, the first seen wins
    header BLOB NOT NULL          -- the 80-byte header
);
CREATE INDEX IF NOT EXISTS block_index_prev ON block_index(prev);
CREATE TABLE IF NOT EXISTS blocks (hash BLOB PRIMARY KEY, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS utxo (
    txid BLOB NOT NULL,
    vout INTEGER NOT NULL,
    value INTEGER NOT NULL,
    script BLOB NOT NULL,
    height INTEGER NOT NULL,
    coinbase INTEGER NOT NULL,
    PRIMARY KEY (txid, vout)
) WITHOUT ROWID;
-- No index on utxo(script): maintaining it cost ~15 % of block connection. Wallets find
-- their coins through script_history (every output is recorded there with its txid).
DROP INDEX IF EXISTS utxo_script;
CREATE TABLE IF NOT EXISTS active (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txindex (txid BLOB PRIMARY KEY, block BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS script_history (
    script BLOB NOT NULL,
    txid BLOB NOT NULL,
    block BLOB NOT NULL,
    height INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS script_history_script ON script_history(script);
CREATE INDEX IF NOT EXISTS script_history_block ON script_history(block);
CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY, raw BLOB NOT NULL);
"""


class Storage:
    """The SQLite database of one data directory, opened by exactly one process."""

    def __init__(self, datadir: str | os.PathLike[str]) -> None:
        self.datadir = Path(datadir)
        try:
            self.datadir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {self.datadir}: {exc}") from exc
        self._lock_fd = self._take_lock()
        try:
            self.conn = sqlite3.connect(
                self.datadir / DB_NAME, isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=OFF")
            with self.transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self.set_meta("schema", str(SCHEMA_VERSION).encode())
                elif int(row[0]) != SCHEMA_VERSION:
                    raise StorageError(
                        f"{self.datadir} has schema version {int(row[0])}, "
                        f"this version of sandbox_chain reads {SCHEMA_VERSION}"
                    )
        except sqlite3.DatabaseError as exc:
            self._release_lock()
            raise StorageError(f"cannot open chain database in {self.datadir}: {exc}") from exc
        except StorageError:
            self._release_lock()
            raise

    # --- the single-writer lock -----------------------------------------------------------

    def _take_lock(self) -> int:
        fd = os.open(self.datadir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise StorageError(
                f"data directory {self.datadir} is in use by another chain "
                "(only one process may open it)"
            ) from exc
        return fd

    def _release_lock(self) -> None:
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    @property
    def closed(self) -> bool:
        """True once `close()` ran."""
        return self._lock_fd < 0

    def close(self) -> None:
        """Close the database and release the directory lock."""
        if self._lock_fd < 0:
            return
        try:
            self.conn.close()
        finally:
            self._release_lock()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT`; any exception rolls everything back and propagates."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        """True between BEGIN and COMMIT/ROLLBACK."""
        return self.conn.in_transaction

    # --- small accessors ------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        """A value of the `meta` table, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        """Set a value of the `meta` table (call inside a transaction)."""
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def integrity_check(self) -> str:
        """SQLite's own consistency check: "ok" when the file is sound."""
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])
