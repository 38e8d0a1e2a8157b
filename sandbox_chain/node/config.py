"""What a node is told (`NodeConfig`), the files it keeps in its data directory, and how it
names itself to peers and clients. Everything here is defined once: the node, its RPC methods,
P2P and the RPC client read it from this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..params import COIN, NetworkParams, get_params
from .server import DEFAULT_MAX_BODY

# Files of the data directory (the chain itself is `chain.sqlite`, see `sandbox_chain.storage`).
COOKIE_NAME = ".cookie"  # `__cookie__:<random hex>`, mode 0600, as Core's -rpccookiefile
COOKIE_USER = "__cookie__"
NODE_INFO_NAME = "node.json"  # ports and pid of the running node, for tools and tests

# How the node names itself: `subversion`/`subver` in getnetworkinfo/getpeerinfo and the
# `user_agent` of the P2P handshake (BIP-14 style), `protocolversion` (Core's 70016), and the
# `version` number getnetworkinfo reports.
USER_AGENT = "/lune-node:0.1.0/"
PROTOCOL_VERSION = 70016
CLIENT_VERSION = 10000


@dataclass
class NodeConfig:
    """Everything `lune chain node` can be told. Ports 0 mean "any free port"."""

    datadir: Path
    network: str = "regtest"
    rpcport: int | None = None  # None: the network's default (18443 on regtest)
    port: int | None = None  # P2P port; None: the network's default (18444 on regtest)
    bind: str = "127.0.0.1"
    connect: list[str] = field(default_factory=list)
    rpcuser: str | None = None
    rpcpassword: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    faucet_amount: int = 10 * COIN  # satoshis paid by default
    faucet_interval: float = 3600.0  # seconds between two payments to the same address
    sync_interval: float = 2.0  # seconds between two catch-up polls of each peer

    @property
    def params(self) -> NetworkParams:
        """The consensus parameters of the configured network."""
        return get_params(self.network)
