"""The node process: a `Chain` behind one writer thread, the RPC/REST server, P2P and the faucet.

Modelled on Bitcoin Core's `bitcoind` (`init.cpp`): start-up opens the data directory, writes the
RPC cookie (`.cookie`, `__cookie__:<random hex>`, mode 0600, as `-rpccookiefile`), binds the RPC
port on 127.0.0.1 unless told otherwise, connects to the peers given with `--connect`; a clean
shutdown (SIGINT, SIGTERM or the `stop` RPC) stops the servers and peers, closes the chain
database (which saves the mempool in it, see `chainstate`) and removes the cookie.

SQLite wants one writer and a connection used from one thread, so every call into the `Chain`
goes through `Node.chain_call`, which runs it on the single `chain` thread (Core's `cs_main`,
made structural; see `chainaccess`). Blocks and transactions accepted through any door (RPC,
P2P, the faucet) go through `Node.submit_block` / `Node.accept_tx`, which also announce them
to the peers. `Node` implements `context.NodeContext`, the interface the RPC methods, REST,
P2P and the faucet depend on: none of them imports this module.
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
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ..chainstate import Chain
from ..errors import ChainError
from ..wallet import write_file_atomic
from .app import RPCApp
from .chainaccess import ChainGate
from .config import COOKIE_NAME, COOKIE_USER, NODE_INFO_NAME, NodeConfig
from .faucet import Faucet
from .p2p import PeerManager
from .p2p_app import P2PApp
from .server import HTTPService

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["Node", "NodeConfig", "curl_example", "start_node"]


class Node(ChainGate):
    """A running node. `start()` brings it up, `stop()` brings it down cleanly (idempotent)."""

    def __init__(self, config: NodeConfig) -> None:
        super().__init__()  # the listeners told about new tips / mempool transactions
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

    @property
    def p2p_port(self) -> int:
        """The port P2P listens on (0 before it is bound)."""
        return self.p2p_service.port if self.p2p_service else 0

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the chain, write the cookie, bind the servers and connect to peers."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.chain = self._executor.submit(Chain.open, self.datadir, self.params).result()
        # Chain.open re-validated the mempool saved at the last clean stop.
        log.info("reloaded %d mempool transactions", self.chain_call(lambda c: len(c.mempool)))
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
        """Stop peers and servers, close the chain (saving its mempool), remove the cookie."""
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
                self._executor.submit(self.chain.close).result()
            except ChainError:
                log.exception("could not close the chain cleanly (the mempool may be lost)")
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
