"""A local network of several nodes on loopback (`lune chain devnet --nodes 3`).

Each node is a separate process (`python -m sandbox_chain.node`) with its own data directory
`DIR/node<i>`, free ports chosen by the system, and `--connect` to every node started before
it, so the network is a full mesh. Stopping the devnet sends SIGTERM to every node (a clean
shutdown: chain closed, cookie removed) and waits for each, bounded.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .client import RPCClient, RPCConnectionError
from .config import COOKIE_NAME, NODE_INFO_NAME

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


class DevnetError(Exception):
    """A node of the devnet failed to start."""


@dataclass
class DevnetNode:
    """One running member of the devnet."""

    datadir: Path
    process: subprocess.Popen
    rpc_url: str = ""
    port: int = 0
    user: str = ""
    password: str = ""

    @property
    def addr(self) -> str:
        """host:port of its P2P server."""
        return f"127.0.0.1:{self.port}"

    def client(self) -> RPCClient:
        """An RPC client for this node."""
        return RPCClient(self.rpc_url, self.user, self.password)


class Devnet:
    """Start, describe and stop N connected nodes."""

    def __init__(self, datadir: Path, nodes: int = 3, network: str = "regtest") -> None:
        if not 1 <= nodes <= 16:
            raise DevnetError("a devnet has 1 to 16 nodes")
        self.datadir = Path(datadir)
        self.count = nodes
        self.network = network
        self.nodes: list[DevnetNode] = []

    def start(self) -> list[DevnetNode]:
        """Start the nodes one by one; each connects to all the previous ones."""
        try:
            for i in range(self.count):
                self.nodes.append(self._start_one(i))
        except BaseException:
            self.stop()
            raise
        return self.nodes

    def _start_one(self, i: int) -> DevnetNode:
        d = self.datadir / f"node{i}"
        d.mkdir(parents=True, exist_ok=True)
        info_path = d / NODE_INFO_NAME
        cmd = [
            sys.executable,
            "-m",
            "sandbox_chain.node",
            "--datadir",
            str(d),
            "--network",
            self.network,
            "--rpcport",
            "0",
            "--port",
            "0",
        ]
        for peer in self.nodes:
            cmd += ["--connect", peer.addr]
        log = open(d / "node.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DevnetError(f"node{i} exited with status {proc.returncode}; see {d}/node.log")
            try:
                info = json.loads(info_path.read_text())
                if info.get("pid") == proc.pid:
                    user, _, password = (d / COOKIE_NAME).read_text().strip().partition(":")
                    node = DevnetNode(d, proc, info["rpc_url"], info["port"], user, password)
                    node.client().call("getblockcount")
                    return node
            except (OSError, ValueError, RPCConnectionError):
                pass
            time.sleep(0.1)
        proc.kill()
        proc.wait(5)
        raise DevnetError(f"node{i} did not start within {START_TIMEOUT:.0f} s; see {d}/node.log")

    def stop(self) -> None:
        """SIGTERM every node, then wait for each (SIGKILL after STOP_TIMEOUT)."""
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(5)
        self.nodes = []

    def describe(self) -> str:
        """How to talk to each node: RPC URL, credentials, a curl example."""
        lines = []
        for i, n in enumerate(self.nodes):
            lines.append(f"node{i}: rpc {n.rpc_url}  p2p {n.addr}  datadir {n.datadir}")
            lines.append(f"  credentials {n.user}:{n.password}")
        if self.nodes:
            n = self.nodes[0]
            lines.append(
                f"example: curl -s -u {n.user}:{n.password} -d "
                f'\'{{"method":"getblockchaininfo","id":1}}\' {n.rpc_url}'
            )
        return "\n".join(lines)
