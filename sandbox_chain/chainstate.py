"""The chain state: block index, fork choice by most work, atomic reorgs, and the mempool.

Follows Bitcoin Core `validation.cpp` (`ProcessNewBlock`, `AcceptBlock`,
`ActivateBestChain`, `InvalidChainFound`, `MaybeUpdateMempoolForReorg`) and `pow.cpp`
(`GetNextWorkRequired`), with these choices:

* Every block is fully checked on its own (`check_block`) and against its parent (bits, time,
  finality, BIP34) *before* anything is stored. A block failing there leaves no trace, so a
  body mutated under an honest header (`corrupted=True`) never blacklists that header.
* A block that passes is stored (index + raw data) and the best chain is activated, in ONE
  SQLite transaction: the answer of `submit_block` is given after COMMIT.
* Fork choice: the most cumulative work wins; on equal work the block seen first stays.
  A reorg (disconnects then connects) is tried inside a SAVEPOINT: if a block of the new branch
  fails, the savepoint is rolled back, that block and its descendants are marked invalid, and
  the next best candidate is tried; the tip stays where it was if nothing better is valid.
* Blocks whose parent is unknown ("orphans") wait in a bounded in-memory pool
  (`MAX_ORPHAN_BLOCKS`) and are processed when the parent arrives; they are not persisted.
* The mempool is saved at `close()` and re-validated at `open()` (like Core's mempool.dat);
  after a crash, transactions accepted since the last clean close are lost, never blocks.
* After a reorg, transactions of disconnected blocks go back to the mempool first, then the
  previous mempool is re-validated; whatever is no longer valid is dropped.
"""

from __future__ import annotations

import os
import time

from . import script as script_mod
from .block import Block
from .blockindex import (
    STATUS_FAILED,
    STATUS_FAILED_CHILD,
    STATUS_FAILED_MASK,
    STATUS_HAVE_DATA,
    STATUS_VALID,
    BlockIndexRules,
    IndexEntry,
)
from .chainmempool import ChainMempool
from .chainview import ChainQueries, DbCoins
from .checkqueue import QueuedCheckFailed, SignatureChecks
from .errors import StorageError, ValidationError
from .mempool import Mempool
from .params import NetworkParams
from .pow import block_work
from .storage import Storage
from .utxo import CoinsViewCache, parse_undo, serialize_undo
from .validation import (
    CheckedBlock,
    check_block,
    connect_block,
    contextual_check_block,
    contextual_check_block_header,
    disconnect_block,
)

MAX_ORPHAN_BLOCKS = 100
SCRIPT_CACHE_LIMIT = 100_000


class Chain(ChainMempool, ChainQueries, BlockIndexRules):
    """A chain on disk (one data directory) with its UTXO set, block index and mempool.

    Open with `Chain.open(datadir, params)`; close with `.close()` (or use `with`).
    """

    def __init__(self, storage: Storage, params: NetworkParams) -> None:
        self.storage = storage
        self.params = params
        self.mempool = Mempool()
        self.clock = time.time  # tests replace it to check time rules
        self.script_cache: set[tuple[bytes, int]] = set()
        self._orphans: dict[bytes, Block] = {}
        # (disconnected, connected) collected while submit_blocks holds the transaction
        self._batch: tuple[list[Block], list[CheckedBlock]] | None = None
        self._real_bits: dict[bytes, int] = {}  # memo of _last_real_bits
        self._coins = DbCoins(storage.conn)
        self._checks = SignatureChecks()  # its worker process starts with the first big block
        self.queue_checks = True  # False: every signature verified in line (benchmarks)
        self._defer_checks = False  # inside submit_blocks: answers collected before COMMIT
        self._load()
        self._load_mempool()

    @classmethod
    def open(cls, datadir: str | os.PathLike[str], params: NetworkParams) -> Chain:
        """Open (or create) the chain in `datadir`; resume exactly where it was left."""
        storage = Storage(datadir)
        try:
            name = storage.get_meta("network")
            if name is None:
                cls._init_genesis(storage, params)
            elif name.decode() != params.name:
                raise StorageError(f"{datadir} holds a {name.decode()} chain, not {params.name}")
            return cls(storage, params)
        except BaseException:
            storage.close()
            raise

    @staticmethod
    def _init_genesis(storage: Storage, params: NetworkParams) -> None:
        genesis = params.genesis_block
        h = genesis.hash()
        work = block_work(genesis.header.bits)
        with storage.transaction() as conn:
            storage.set_meta("network", params.name.encode())
            conn.execute(
                "INSERT INTO block_index VALUES (?,?,?,?,?,?,?)",
                (
                    h,
                    bytes(32),
                    0,
                    work.to_bytes(32, "big"),
                    STATUS_HAVE_DATA | STATUS_VALID,
                    0,
                    genesis.header.serialize(),
                ),
            )
            conn.execute("INSERT INTO blocks VALUES (?,?)", (h, genesis.serialize()))
            conn.execute("INSERT INTO active VALUES (0, ?)", (h,))
            # Bitcoin never adds the genesis coinbase to the UTXO set: it cannot be spent.
            storage.set_meta("tip", h)

    def _load(self) -> None:
        """(Re)build the in-memory index from the database, the single source of truth."""
        from .block import BlockHeader

        conn = self.storage.conn
        self._index: dict[bytes, IndexEntry] = {}
        self._children: dict[bytes, list[bytes]] = {}
        for h, prev, height, work, status, seq, header in conn.execute(
            "SELECT hash, prev, height, chainwork, status, seq, header FROM block_index"
        ):
            hdr = BlockHeader.parse(bytes(header))
            e = IndexEntry(
                bytes(h),
                bytes(prev),
                height,
                int.from_bytes(work, "big"),
                status,
                seq,
                hdr.time,
                hdr.bits,
            )
            self._index[e.hash] = e
            self._children.setdefault(e.prev, []).append(e.hash)
        self._seq = max((e.seq for e in self._index.values()), default=0)
        self._active = [
            bytes(h) for (h,) in conn.execute("SELECT hash FROM active ORDER BY height")
        ]
        tip = self.storage.get_meta("tip")
        if tip is None or not self._active or self._active[-1] != tip or tip not in self._index:
            raise StorageError("chain database is inconsistent: tip and active chain disagree")
        self._coins.cache.clear()
        tip_work = self._index[tip].chainwork
        self._candidates = {
            e.hash
            for e in self._index.values()
            if e.chainwork > tip_work and not e.status & STATUS_FAILED_MASK
        }

    def close(self) -> None:
        """Save the mempool (Core's mempool.dat), close the database, release the directory."""
        if self.storage.closed:
            return
        try:
            self._save_mempool()
        finally:
            self._checks.close()
            self.storage.close()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the tip --------------------------------------------------------------------------

    @property
    def tip(self) -> bytes:
        """Hash of the last block of the active chain (internal byte order)."""
        return self._active[-1]

    @property
    def height(self) -> int:
        """Height of the tip (genesis is 0)."""
        return len(self._active) - 1

    # --- blocks ---------------------------------------------------------------------------

    def submit_block(self, block: Block) -> str:
        """Validate and store a block, moving the tip if it makes the best chain.

        Returns "accepted" (now on the active chain), "side-chain" (stored, less work),
        "duplicate" (already known) or "orphan" (parent unknown; kept in memory until it
        arrives). Raises `ValidationError` with Core's reason; the state is then unchanged,
        except that a block that failed while connecting is remembered as invalid.
        """
        h = block.hash()
        known = self._index.get(h)
        if known is not None:
            if known.status & STATUS_FAILED_MASK:
                raise ValidationError("duplicate-invalid", "block is marked invalid")
            return "duplicate"
        checked = check_block(block, self.params)
        prev = self._index.get(block.header.prev_hash)
        if prev is None:
            if len(self._orphans) >= MAX_ORPHAN_BLOCKS:
                self._orphans.pop(next(iter(self._orphans)))
            self._orphans[h] = block
            return "orphan"
        if prev.status & STATUS_FAILED_MASK:
            raise ValidationError("bad-prevblk", "previous block is invalid")
        height = prev.height + 1
        mtp = self.median_time_past(prev.hash)
        expected = self.next_bits(prev.hash, block.header.time)
        contextual_check_block_header(block.header, expected, mtp, int(self.clock()), self.params)
        contextual_check_block(block, height, mtp)
        result = self._store_and_activate(checked, prev)
        self._process_orphans(h)
        return result

    def _process_orphans(self, parent: bytes) -> None:
        waiting = [parent]
        while waiting:
            p = waiting.pop()
            for oh, ob in list(self._orphans.items()):
                if ob.header.prev_hash == p:
                    del self._orphans[oh]
                    try:
                        self.submit_block(ob)
                    except ValidationError:
                        continue
                    waiting.append(oh)

    def _store_and_activate(self, checked: CheckedBlock, prev: IndexEntry) -> str:
        h = checked.hash
        header = checked.block.header
        self._seq += 1
        entry = IndexEntry(
            h,
            prev.hash,
            prev.height + 1,
            prev.chainwork + block_work(header.bits),
            STATUS_HAVE_DATA,
            self._seq,
            header.time,
            header.bits,
        )
        errors: list[tuple[bytes, ValidationError]] = []
        if self._batch is not None:  # inside submit_blocks: its transaction, its mempool update
            disconnected, connected = self._store_locked(checked, prev, entry, errors)
            self._batch[0].extend(disconnected)
            self._batch[1].extend(connected)
        else:
            try:
                with self.storage.transaction():
                    mempool_work = self._store_locked(checked, prev, entry, errors)
            except BaseException:
                self._load()  # memory may be ahead of the rolled-back database
                raise
            self._update_mempool(*mempool_work)
        if entry.status & STATUS_FAILED_MASK:
            failing = next((exc for bh, exc in errors if bh == h), errors[0][1] if errors else None)
            raise failing or ValidationError("bad-prevblk")
        return "accepted" if self.is_active(h) else "side-chain"

    def _store_locked(
        self,
        checked: CheckedBlock,
        prev: IndexEntry,
        entry: IndexEntry,
        errors: list[tuple[bytes, ValidationError]],
    ) -> tuple[list[Block], list[CheckedBlock]]:
        """Write the block and activate the best chain (inside the caller's transaction)."""
        h = checked.hash
        self.storage.conn.execute(
            "INSERT INTO block_index VALUES (?,?,?,?,?,?,?)",
            (
                h,
                prev.hash,
                entry.height,
                entry.chainwork.to_bytes(32, "big"),
                entry.status,
                entry.seq,
                checked.block.header.serialize(),
            ),
        )
        self.storage.conn.execute("INSERT INTO blocks VALUES (?,?)", (h, checked.serialize()))
        self._index[h] = entry
        self._children.setdefault(prev.hash, []).append(h)
        if entry.chainwork > self._index[self.tip].chainwork:
            self._candidates.add(h)
        return self._activate_best_chain({h: checked}, errors)

    def submit_blocks(self, blocks: list[Block]) -> list[str]:
        """Submit many blocks in ONE transaction (bulk import, catching up with a peer).

        Each block is validated exactly as by `submit_block`, but all are committed together,
        so the disk is synced once instead of once per block; the answers are given after that
        COMMIT. Stops at the first invalid block: the blocks before it are kept, and its
        `ValidationError` is raised after the commit.
        """
        if self.queue_checks:
            orphans = dict(self._orphans)
            try:
                return self._submit_blocks(blocks, defer_checks=True)
            except QueuedCheckFailed:  # rolled back: again, each block's signatures in turn
                self._orphans = orphans
        return self._submit_blocks(blocks, defer_checks=False)

    def _submit_blocks(self, blocks: list[Block], defer_checks: bool) -> list[str]:
        """`submit_blocks`; with `defer_checks`, the queued signatures of all the blocks are
        waited for once, before COMMIT (a failure raises `QueuedCheckFailed`, rolled back)."""
        self._batch = ([], [])
        self._defer_checks = defer_checks
        results: list[str] = []
        error: ValidationError | None = None
        try:
            with self.storage.transaction():
                for block in blocks:
                    try:
                        results.append(self.submit_block(block))
                    except ValidationError as exc:
                        error = exc
                        break
                if defer_checks:
                    self._defer_checks = False
                    if not self._checks.wait():
                        raise QueuedCheckFailed
                    flags = script_mod.MANDATORY_FLAGS
                    self.script_cache.update((t, flags) for t in self._checks.script_txids)
        except BaseException:
            self._load()
            raise
        finally:
            self._defer_checks = False
            self._checks.wait()  # nothing left queued for the next caller, whatever happened
            self._checks.script_txids.clear()
            work, self._batch = self._batch, None
        self._update_mempool(*work)
        if error is not None:
            raise error
        return results

    def _activate_best_chain(
        self, known: dict[bytes, CheckedBlock], errors: list[tuple[bytes, ValidationError]]
    ) -> tuple[list[Block], list[CheckedBlock]]:
        """Move to the valid chain with most work; call inside a transaction."""
        conn = self.storage.conn
        disconnected_all: list[Block] = []
        connected_all: list[CheckedBlock] = []
        while True:
            tip_work = self._index[self.tip].chainwork
            self._candidates = {
                c
                for c in self._candidates
                if self._index[c].chainwork > tip_work
                and not self._index[c].status & STATUS_FAILED_MASK
            }
            if not self._candidates:
                break
            best = min(
                self._candidates, key=lambda c: (-self._index[c].chainwork, self._index[c].seq)
            )
            conn.execute("SAVEPOINT reorg")
            try:
                try:
                    disconnected, connected = self._reorg_to(
                        self._index[best], known, self.queue_checks
                    )
                except QueuedCheckFailed:  # again in line: Core's first error, in block order
                    if self._defer_checks:
                        raise  # it may be an earlier block's: submit_blocks starts over
                    conn.execute("ROLLBACK TO reorg")
                    disconnected, connected = self._reorg_to(self._index[best], known)
            except ValidationError as exc:
                conn.execute("ROLLBACK TO reorg")
                conn.execute("RELEASE reorg")
                bad = exc.block_hash or best
                errors.append((bad, exc))
                self._mark_invalid(bad)
                continue
            conn.execute("RELEASE reorg")
            disconnected_all.extend(disconnected)
            connected_all.extend(connected)
        return disconnected_all, connected_all

    def _mark_invalid(self, bad: bytes) -> None:
        conn = self.storage.conn
        stack = [(bad, STATUS_FAILED)]
        while stack:
            h, flag = stack.pop()
            e = self._index[h]
            e.status |= flag
            conn.execute("UPDATE block_index SET status=? WHERE hash=?", (e.status, h))
            self._candidates.discard(h)
            stack.extend((c, STATUS_FAILED_CHILD) for c in self._children.get(h, []))

    def _load_checked(self, h: bytes, known: dict[bytes, CheckedBlock]) -> CheckedBlock:
        if h in known:
            return known[h]
        block = self.get_block(h)
        if block is None:
            raise StorageError(f"block data missing for {h[::-1].hex()}")
        return check_block(block, self.params, check_pow=False)

    def _reorg_to(
        self, target: IndexEntry, known: dict[bytes, CheckedBlock], queue_checks: bool = False
    ) -> tuple[list[Block], list[CheckedBlock]]:
        """Disconnect to the fork point, connect up to `target`, write it all (no commit).

        With `queue_checks`, signatures are verified by the check queue's worker while the
        blocks are written; any failure there raises `QueuedCheckFailed` before the memory
        state changes, and the caller rolls back and calls again without the queue. Inside
        `submit_blocks` (`_defer_checks`) the answers are only collected before its COMMIT.
        """
        checks = self._checks if queue_checks else None
        done = False
        try:
            result = self._reorg_steps(target, known, checks)
            done = True
            return result
        finally:
            if checks is not None and not (done and self._defer_checks):
                checks.wait()  # nothing left queued for the next caller, whatever happened
                checks.script_txids.clear()

    def _reorg_steps(
        self,
        target: IndexEntry,
        known: dict[bytes, CheckedBlock],
        checks: SignatureChecks | None,
    ) -> tuple[list[Block], list[CheckedBlock]]:
        conn = self.storage.conn
        path: list[IndexEntry] = []
        e = target
        while not self.is_active(e.hash):
            path.append(e)
            e = self._index[e.prev]
        fork_height = e.height
        path.reverse()
        view = CoinsViewCache(self._coins)
        disconnected: list[Block] = []
        for height in range(self.height, fork_height, -1):
            h = self._active[height]
            checked = self._load_checked(h, known)
            row = conn.execute("SELECT data FROM undo WHERE hash=?", (h,)).fetchone()
            undo = parse_undo(bytes(row[0]))
            disconnect_block(checked.block, checked.txids, undo, view)
            disconnected.append(checked.block)
            conn.execute("DELETE FROM active WHERE height=?", (height,))
            conn.executemany("DELETE FROM txindex WHERE txid=?", [(t,) for t in checked.txids])
            conn.execute("DELETE FROM script_history WHERE block=?", (h,))
        connected: list[CheckedBlock] = []
        flags = script_mod.MANDATORY_FLAGS
        for entry in path:
            checked = self._load_checked(entry.hash, known)
            try:
                undo, _ = connect_block(
                    checked, entry.height, view, self.params, flags, self.script_cache, checks
                )
            except ValidationError as exc:
                if checks is not None and not checks.wait():
                    raise QueuedCheckFailed from exc  # a signature before it may fail first
                exc.block_hash = entry.hash
                raise
            if checks is not None:
                checks.submit()  # verified by the worker while the block's rows are written
            self._write_connect(checked, entry, undo)
            connected.append(checked)
        deletes = [k for k, c in view.changes.items() if c is None]
        conn.executemany("DELETE FROM utxo WHERE txid=? AND vout=?", deletes)
        conn.executemany(
            "INSERT OR REPLACE INTO utxo VALUES (?,?,?,?,?,?)",
            [
                (k[0], k[1], c.value, c.script_pubkey, c.height, int(c.is_coinbase))
                for k, c in view.changes.items()
                if c is not None
            ],
        )
        self.storage.set_meta("tip", target.hash)
        if checks is not None and not self._defer_checks:
            if not checks.wait():
                raise QueuedCheckFailed
            self.script_cache.update((txid, flags) for txid in checks.script_txids)
        # The database now holds the new chain; mirror it in memory (undone by _load on error).
        del self._active[fork_height + 1 :]
        self._active.extend(entry.hash for entry in path)
        self._coins.apply(view.changes)
        if len(self.script_cache) > SCRIPT_CACHE_LIMIT:
            self.script_cache.clear()
        return disconnected, connected

    def _write_connect(self, checked: CheckedBlock, entry: IndexEntry, undo: list) -> None:
        conn = self.storage.conn
        h = entry.hash
        conn.execute("INSERT OR REPLACE INTO undo VALUES (?,?)", (h, serialize_undo(undo)))
        conn.execute("INSERT INTO active VALUES (?,?)", (entry.height, h))
        conn.executemany(
            "INSERT OR REPLACE INTO txindex VALUES (?,?)", [(t, h) for t in checked.txids]
        )
        # One row per (script, transaction) touching it: paid to, or spent from.
        history: list[tuple[bytes, bytes, bytes, int]] = []
        pos = 0
        for i, (tx, txid) in enumerate(zip(checked.block.txs, checked.txids, strict=True)):
            scripts = {out.script_pubkey for out in tx.vout}
            if i > 0:  # the coinbase spends nothing
                scripts.update(coin.script_pubkey for coin in undo[pos : pos + len(tx.vin)])
                pos += len(tx.vin)
            history.extend((script, txid, h, entry.height) for script in scripts)
        conn.executemany("INSERT INTO script_history VALUES (?,?,?,?)", history)
        if not entry.status & STATUS_VALID:
            entry.status |= STATUS_VALID
            conn.execute("UPDATE block_index SET status=? WHERE hash=?", (entry.status, h))
