"""Helpers for the node tests: real node processes on 127.0.0.1 with free ports, bounded polls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sandbox_chain.node.client import RPCClient, RPCConnectionError

START_TIMEOUT = 20.0


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value (returned) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (RPCConnectionError, OSError) as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


class NodeProcess:
    """One `python -m sandbox_chain.node` child process and a client for it."""

    def __init__(self, datadir: Path, *args: str, port: int = 0) -> None:
        self.datadir = datadir
        self.args = list(args)
        self.port = port  # P2P port; kept across restarts so peers find the node again
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self.rpc: RPCClient | None = None

    def start(self, *extra: str) -> NodeProcess:
        """Start the process and wait until its node.json names it and RPC answers."""
        cmd = [
            sys.executable,
            "-m",
            "sandbox_chain.node",
            "--datadir",
            str(self.datadir),
            "--rpcport",
            "0",
            "--port",
            str(self.port),
            *self.args,
            *extra,
        ]
        log = open(self.datadir.parent / f"{self.datadir.name}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        info_path = self.datadir / "node.json"

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"node exited with {self.proc.returncode}: {self.log()}")
            if not info_path.exists():
                return False
            info = json.loads(info_path.read_text())
            if info.get("pid") != self.proc.pid:
                return False
            self.info = info
            return True

        wait_for(ready, START_TIMEOUT, what="node start")
        self.port = self.info["port"]
        if "--rpcpassword" in self.args:  # fixed credentials instead of the cookie file
            user = self.args[self.args.index("--rpcuser") + 1]
            password = self.args[self.args.index("--rpcpassword") + 1]
            self.rpc = RPCClient(self.info["rpc_url"], user, password, timeout=30)
        else:
            self.rpc = RPCClient.from_datadir(self.datadir, timeout=30)
        wait_for(lambda: self.rpc.getblockcount() is not None, what="rpc")
        return self

    def log(self) -> str:
        """The node's output so far (for failure messages)."""
        path = self.datadir.parent / f"{self.datadir.name}.log"
        return path.read_text()[-3000:] if path.exists() else ""

    @property
    def addr(self) -> str:
        """host:port of its P2P server."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of its RPC/REST server."""
        return self.info["rpc_url"].rstrip("/")

    def cookie(self) -> tuple[str, str]:
        """(user, password) from the cookie file."""
        user, _, password = (self.datadir / ".cookie").read_text().partition(":")
        return user, password

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Send `sig` and wait for the exit; returns the exit status."""
        if self.rpc is not None:
            self.rpc.close()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"node did not stop within {timeout}s: {self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: the crash tests' power cut (for the process)."""
        self.stop(signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """True while a process exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
