"""The node process: a `Chain` behind one writer thread, the RPC/REST server, P2P and the faucet.

Modelled on Bitcoin Core's `bitcoind` (`init.cpp`): start-up opens the data directory, writes the
RPC cookie (`.cookie`, `__cookie__:<random hex>`, mode 0600, as `-rpccookiefile`), binds the RPC
port on 127.0.0.1 unless told otherwise, connects to the peers given with `--connect`; a clean
shutdown (SIGINT, SIGTERM or the `stop` RPC) stops the servers and peers, saves the mempool,
closes the chain database and removes the cookie.

SQLite wants one writer and a connection used from one thread, so every call into the `Chain`
goes through `Node.chain_call`, which runs it on the single `chain` thread (Core's `cs_main`,
made structural). Blocks and transactions accepted through any door (RPC, P2P, the faucet) go
through `Node.submit_block` / `Node.accept_tx`, which also announce them to the peers.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from ..block import Block
from ..chainstate import Chain
from ..errors import ChainError, ParseError, ValidationError
from ..params import NetworkParams, get_params
from ..transaction import Transaction
from ..wallet import write_file_atomic
from .server import DEFAULT_MAX_BODY, HTTPService

log = logging.getLogger(__name__)
T = TypeVar("T")

COOKIE_NAME = ".cookie"
COOKIE_USER = "__cookie__"
NODE_INFO_NAME = "node.json"  # ports and pid of the running node, for tools and tests
MEMPOOL_NAME = "mempool.dat"  # hex transactions, one a line, saved at clean shutdown
USER_AGENT = "/lune-node:0.1.0/"
PROTOCOL_VERSION = 70016


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
    faucet_amount: int = 10 * 100_000_000  # satoshis paid by default
    faucet_interval: float = 3600.0  # seconds between two payments to the same address
    sync_interval: float = 2.0  # seconds between two catch-up polls of each peer

    @property
    def params(self) -> NetworkParams:
        """The consensus parameters of the configured network."""
        return get_params(self.network)


class Node:
    """A running node. `start()` brings it up, `stop()` brings it down cleanly (idempotent)."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.params = config.params
        self.datadir = Path(config.datadir)
        self.started_at = time.time()
        self.stop_event = threading.Event()
        self._stopped = False
        self._stop_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain")
        self.chain: Chain | None = None
        self.cookie: str | None = None
        # Files this node wrote and removes at stop. A node that failed to start (data
        # directory locked by a running node) must not remove the running node's files.
        self._own_files: list[Path] = []
        self.rpc_service: HTTPService | None = None
        self.p2p_service: HTTPService | None = None
        # Listeners told about every new tip / mempool transaction (P2P relay subscribes).
        self.on_block: list[Callable[[bytes, Any], None]] = []
        self.on_tx: list[Callable[[bytes, Any], None]] = []
        from .faucet import Faucet
        from .p2p import PeerManager

        self.peers = PeerManager(self)
        self.faucet = Faucet(self)

    # --- the chain thread -------------------------------------------------------------------

    def chain_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(chain, *args)` on the chain thread and return its result (or raise its error)."""

        def run() -> T:
            if self.chain is None:
                raise ChainError("the chain is not open")
            return fn(self.chain, *args, **kwargs)

        return self._executor.submit(run).result()

    def submit_block(self, block: Block, source: Any = None) -> str:
        """Validate and store a block; announce the new tip to peers if it moved.

        Returns the chain's verdict ("accepted", "duplicate", "orphan", "side-chain" …);
        raises `ValidationError` for an invalid block. After a reorg, the transactions of the
        abandoned blocks that went back to the mempool are announced as well: a peer that
        followed the same reorg from elsewhere (or never saw them) would not relay them again.
        """

        def run(chain: Chain) -> tuple[str, bytes, bytes, list[bytes]]:
            before = chain.tip
            # Only a block off our tip can start a reorg; extending the tip (the common case)
            # skips the mempool snapshot.
            pool = chain.mempool.snapshot() if block.header.prev_hash != before else None
            verdict = chain.submit_block(block)
            returned: list[bytes] = []
            if pool is not None and chain.tip != before:
                returned = [t for t in chain.mempool.txids() if t not in pool]
            return verdict, before, chain.tip, returned

        verdict, before, after, returned = self.chain_call(run)
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

        `precheck(chain)`, run first in the same chain-thread call, may raise, or return True
        to skip acceptance (the transaction is already there: nothing to announce).
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

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the chain, write the cookie, bind the servers and connect to peers."""
        from .app import RPCApp
        from .p2p_app import P2PApp

        self.datadir.mkdir(parents=True, exist_ok=True)
        self.chain = self._executor.submit(Chain.open, self.datadir, self.params).result()
        self._load_mempool()
        credentials: list[tuple[str, str]] = []
        if self.config.rpcpassword is not None:
            credentials.append((self.config.rpcuser or "", self.config.rpcpassword))
        else:
            self.cookie = secrets.token_hex(32)
            write_file_atomic(self.datadir / COOKIE_NAME, f"{COOKIE_USER}:{self.cookie}".encode())
            self._own_files.append(self.datadir / COOKIE_NAME)
            credentials.append((COOKIE_USER, self.cookie))
        rpcport = (
            self.params.default_rpc_port if self.config.rpcport is None else self.config.rpcport
        )
        p2pport = self.params.default_p2p_port if self.config.port is None else self.config.port
        self.rpc_service = HTTPService(
            (self.config.bind, rpcport),
            RPCApp(self),
            credentials=lambda: credentials,
            max_body=self.config.max_body,
            name="rpc",
        )
        self.p2p_service = HTTPService(
            (self.config.bind, p2pport), P2PApp(self), max_body=self.config.max_body, name="p2p"
        )
        self.rpc_service.start()
        self.p2p_service.start()
        self.faucet.open()
        self.peers.start(self.config.connect)
        info = {
            "pid": os.getpid(),
            "network": self.params.name,
            "bind": self.config.bind,
            "rpcport": self.rpc_service.port,
            "port": self.p2p_service.port,
            "rpc_url": f"http://{self.config.bind}:{self.rpc_service.port}/",
            "cookie": str(self.datadir / COOKIE_NAME) if self.cookie else None,
        }
        write_file_atomic(self.datadir / NODE_INFO_NAME, json.dumps(info, indent=2).encode(), 0o644)
        self._own_files.append(self.datadir / NODE_INFO_NAME)
        log.info("node up: rpc %s, p2p port %s", info["rpc_url"], info["port"])
        if self.cookie:
            log.info("try: %s", curl_example(self))

    def request_stop(self) -> None:
        """Ask the node to stop (from a signal handler or the `stop` RPC); returns at once."""
        self.stop_event.set()

    def stop(self) -> None:
        """Stop peers and servers, save the mempool, close the chain, remove the cookie."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        self.stop_event.set()
        self.peers.stop()
        for service in (self.rpc_service, self.p2p_service):
            if service is not None:
                service.stop()
        self.faucet.close()
        if self.chain is not None:
            try:
                self._save_mempool()
            except (OSError, ChainError):
                log.exception("could not save the mempool")
            self._executor.submit(self.chain.close).result()
            self.chain = None
        self._executor.shutdown(wait=True)
        for path in self._own_files:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        log.info("node stopped")

    def run(self) -> None:
        """Start, serve until SIGINT/SIGTERM or `stop`, then stop cleanly."""
        try:
            self.start()
            self.run_until_stopped()
        finally:
            self.stop()

    def run_until_stopped(self) -> None:
        """Block until SIGINT/SIGTERM or the `stop` RPC (the node must be started)."""
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: self.request_stop())
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- mempool persistence (Core's mempool.dat, as plain hex lines) ---------------------

    def _save_mempool(self) -> None:
        def collect(chain: Chain) -> list[str]:
            return [chain.mempool.get(txid).serialize().hex() for txid in chain.mempool.txids()]

        lines = self.chain_call(collect)
        write_file_atomic(self.datadir / MEMPOOL_NAME, "\n".join(lines).encode())

    def _load_mempool(self) -> None:
        path = self.datadir / MEMPOOL_NAME
        if not path.exists():
            return
        loaded = 0
        for line in path.read_text().split():
            try:
                tx = Transaction.parse(bytes.fromhex(line))
                self.chain_call(lambda chain, tx=tx: chain.accept_to_mempool(tx))
                loaded += 1
            except (ValueError, ParseError, ValidationError):
                continue  # mined meanwhile, or conflicting: Core drops those too
        path.unlink()
        log.info("reloaded %d mempool transactions", loaded)


def start_node(config: NodeConfig) -> Node:
    """Start a node in this process (servers and peers on background threads) and return it.

    If a configured port is taken (another node already runs on the default ports), the node
    takes any free port instead and says so in `node.json`. Stop it with `node.stop()`.
    """
    node = Node(config)
    try:
        node.start()
    except OSError:
        node.stop()
        config = replace(config, rpcport=0, port=0)
        node = Node(config)
        node.start()
    return node


def curl_example(node: Node, method: str = "getblockchaininfo") -> str:
    """A copy-and-paste curl command calling `method` on a running node with its cookie."""
    cookie = node.datadir / COOKIE_NAME
    url = f"http://{node.config.bind}:{node.rpc_service.port if node.rpc_service else 0}/"
    return (
        f'curl -s -u "$(cat {cookie})" -d \'{{"jsonrpc":"2.0","id":1,"method":"{method}"}}\' {url}'
    )
