"""`NodeContext`: what the RPC methods, REST, P2P and the faucet may use of a running node.

As Bitcoin Core's `node/context.h` (the `NodeContext` struct its RPC and REST handlers reach
the node through), this is an interface, not the node: `node.Node` implements it, and nothing
that serves requests imports `node.py`. A part that needs only the chain and the settings
depends on the narrower `chainaccess.ChainAccess`; `NodeContext` adds the peers, the faucet
and the node's life cycle.
"""

from __future__ import annotations

from typing import Protocol

from .chainaccess import ChainAccess
from .faucet import Faucet
from .p2p import PeerManager


class NodeContext(ChainAccess, Protocol):
    """A running node as its request handlers see it."""

    started_at: float  # time.time() at start-up (the `uptime` RPC)
    peers: PeerManager
    faucet: Faucet

    def request_stop(self) -> None:
        """Ask the node to stop cleanly; returns at once (the `stop` RPC)."""
        ...
