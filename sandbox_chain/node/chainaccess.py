"""How every part of a node reaches its `Chain`: through `chain_call`, on one thread.

SQLite wants one writer and a connection used from one thread, so a running node runs every
call into its `Chain` on a single `chain` thread (Bitcoin Core's `cs_main`, made structural):
`chain_call(fn, *args)` runs `fn(chain, *args)` there and returns its result. Blocks and
transactions accepted through any door (RPC, P2P, the faucet) go through `submit_block` and
`accept_tx`, which also tell the listeners in `on_block` / `on_tx` (P2P relay subscribes).

`ChainAccess` is that interface, as P2P, REST, the faucet, mining and the RPC methods depend
on it; `ChainGate` implements `submit_block` and `accept_tx` once over any `chain_call`;
`InProcessChain` is a `ChainGate` over a `Chain` the caller opened, calls running in the
caller's thread (for tools, notebooks and tests that call RPC methods without a server).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..block import Block
from ..chainstate import Chain
from ..params import NetworkParams
from ..transaction import Transaction
from .config import NodeConfig

T = TypeVar("T")
Listener = Callable[[bytes, Any], None]


class ChainAccess(Protocol):
    """What a part of the node may use of it: the chain (on its thread) and the settings."""

    params: NetworkParams
    datadir: Path
    config: NodeConfig
    stop_event: threading.Event
    on_block: list[Listener]  # called with (new tip hash, source) after the tip moved
    on_tx: list[Listener]  # called with (txid, source) after a transaction entered the pool

    def chain_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(chain, *args, **kwargs)` on the chain thread; its result or its error."""
        ...

    def submit_block(self, block: Block, source: Any = None) -> str:
        """Validate and store a block, tell the listeners; the chain's verdict."""
        ...

    def accept_tx(
        self,
        tx: Transaction,
        source: Any = None,
        precheck: Callable[[Chain], bool] | None = None,
    ) -> bytes:
        """Put a transaction in the mempool, tell the listeners; its txid."""
        ...

    @property
    def p2p_port(self) -> int:
        """The port P2P listens on (0 when it does not listen)."""
        ...


def _submit(chain: Chain, block: Block) -> tuple[str, bytes, bytes, list[bytes]]:
    """Submit on the chain thread: (verdict, tip before, tip after, txids back in the pool)."""
    before = chain.tip
    # Only a block off our tip can start a reorg; extending the tip (the common case) skips
    # the mempool snapshot.
    pool = chain.mempool.snapshot() if block.header.prev_hash != before else None
    verdict = chain.submit_block(block)
    returned: list[bytes] = []
    if pool is not None and chain.tip != before:
        returned = [t for t in chain.mempool.txids() if t not in pool]
    return verdict, before, chain.tip, returned


class ChainGate:
    """`submit_block` and `accept_tx` over a subclass's `chain_call`, with the listeners."""

    def __init__(self) -> None:
        self.on_block: list[Listener] = []
        self.on_tx: list[Listener] = []

    def chain_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(chain, *args, **kwargs)` where the chain may be used."""
        raise NotImplementedError

    def submit_block(self, block: Block, source: Any = None) -> str:
        """Validate and store a block; announce the new tip to the listeners if it moved.

        Returns the chain's verdict ("accepted", "duplicate", "orphan", "side-chain" …);
        raises `ValidationError` for an invalid block. After a reorg, the transactions of the
        abandoned blocks that went back to the mempool are announced as well: a peer that
        followed the same reorg from elsewhere (or never saw them) would not relay them again.
        """
        verdict, before, after, returned = self.chain_call(_submit, block)
        if after != before:
            for listener in self.on_block:
                listener(after, source)
        for txid in returned:
            for listener in self.on_tx:
                listener(txid, None)
        return verdict

    def accept_tx(
        self,
        tx: Transaction,
        source: Any = None,
        precheck: Callable[[Chain], bool] | None = None,
    ) -> bytes:
        """Put a transaction in the mempool (raising `ValidationError`) and announce it.

        `precheck(chain)`, run first in the same chain call, may raise, or return True to
        skip acceptance (the transaction is already there: nothing to announce).
        """

        def run(chain: Chain) -> tuple[bytes, bool]:
            if precheck is not None and precheck(chain):
                return tx.txid(), False
            return chain.accept_to_mempool(tx), True

        txid, added = self.chain_call(run)
        if added:
            for listener in self.on_tx:
                listener(txid, source)
        return txid


class InProcessChain(ChainGate):
    """`ChainAccess` over a `Chain` opened by the caller, used from the caller's thread only.

    No servers, no peers, no chain thread: `chain_call(fn)` is `fn(chain)`. The chain stays
    the caller's to close.
    """

    def __init__(self, chain: Chain) -> None:
        super().__init__()
        self.chain = chain
        self.params = chain.params
        self.datadir = chain.storage.datadir
        self.config = NodeConfig(datadir=self.datadir, network=chain.params.name)
        self.stop_event = threading.Event()

    def chain_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(chain, *args, **kwargs)` now, in this thread."""
        return fn(self.chain, *args, **kwargs)

    @property
    def p2p_port(self) -> int:
        """0: an in-process chain does not listen."""
        return 0
