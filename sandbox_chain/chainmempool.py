"""The chain's mempool glue: accepting transactions, and keeping the pool in step with blocks.

Follows Bitcoin Core `validation.cpp` (`AcceptToMemoryPool`, `MaybeUpdateMempoolForReorg`) and
`kernel/mempool_persist.cpp` (the pool saved at a clean shutdown and re-validated at start, as
`mempool.dat` is). Mixed into `chainstate.Chain`, which provides the attributes below; the
pool itself and its policy checks are `sandbox_chain.mempool`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ChainError, ValidationError
from .mempool import ChainContext, Mempool
from .params import NetworkParams
from .transaction import Transaction

if TYPE_CHECKING:
    from .block import Block
    from .chainview import DbCoins
    from .storage import Storage
    from .validation import CheckedBlock


class ChainMempool:
    """Mempool operations of `Chain`."""

    storage: Storage
    mempool: Mempool
    params: NetworkParams
    script_cache: set[tuple[bytes, int]]
    _coins: DbCoins

    if TYPE_CHECKING:  # provided by Chain and BlockIndexRules; declared for type checkers only

        @property
        def height(self) -> int: ...

        def median_time_past(self, block_hash: bytes | None = None) -> int: ...

    def _load_mempool(self) -> None:
        rows = self.storage.conn.execute("SELECT raw FROM mempool ORDER BY seq").fetchall()
        for (raw,) in rows:
            try:
                self.accept_to_mempool(Transaction.parse(bytes(raw)))
            except ChainError:
                pass  # no longer valid (or unreadable): dropped, as Core drops it on load

    def _save_mempool(self) -> None:
        with self.storage.transaction() as conn:
            conn.execute("DELETE FROM mempool")
            conn.executemany(
                "INSERT INTO mempool(raw) VALUES (?)",
                [(self.mempool.entries[t].tx.serialize(),) for t in self.mempool.txids()],
            )

    def _update_mempool(self, disconnected: list[Block], connected: list[CheckedBlock]) -> None:
        if not disconnected:
            for c in connected:
                self.mempool.remove_for_block(c.block.txs, c.txids)
            return
        # Core's MaybeUpdateMempoolForReorg: disconnected transactions first (oldest block
        # first), then the previous pool; anything no longer valid is dropped.
        previous = self.mempool.clear()
        resubmit: list[Transaction] = []
        for block in reversed(disconnected):
            resubmit.extend(tx for tx in block.txs if not tx.is_coinbase())
        for tx in resubmit + previous:
            try:
                self.accept_to_mempool(tx)
            except ValidationError:
                pass

    # --- transactions ---------------------------------------------------------------------

    def mempool_context(self) -> ChainContext:
        """What the mempool needs to judge a transaction for the next block."""
        return ChainContext(self._coins, self.height + 1, self.median_time_past(), self.params)

    def accept_to_mempool(self, tx: Transaction) -> bytes:
        """Validate `tx` (consensus and relay policy) and add it to the mempool; return its txid.

        Raises `ValidationError` with Core's reason; the mempool is then unchanged.
        """
        entry = self.mempool.accept(tx, self.mempool_context(), script_cache=self.script_cache)
        return entry.txid
