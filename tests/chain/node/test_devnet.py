"""`lune chain devnet`: several connected nodes from one command, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading

import pytest
from nodekit import wait_for

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.client import RPCClient
from sandbox_chain.params import REGTEST

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_devnet_starts_connected_nodes_and_stops_on_ctrl_c(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "web.cli",
        "chain",
        "devnet",
        "--nodes",
        "3",
        "--datadir",
        str(tmp_path),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    out = []
    try:
        while not any(x.startswith("example:") for x in out):
            out.append(lines.get(timeout=60))
        text = "".join(out)
        urls = re.findall(r"rpc (http://127\.0\.0\.1:\d+/)", text)
        creds = re.findall(r"credentials (\S+):(\S+)", text)
        assert len(urls) == 3 and len(creds) == 3
        clients = [RPCClient(u, user, pw) for u, (user, pw) in zip(urls, creds, strict=True)]
        wait_for(lambda: clients[0].call("getconnectioncount") == 2, what="full mesh")
        address = PrivateKey.from_int(3).public_key().address(REGTEST)
        [tip] = clients[2].call("generatetoaddress", 1, address)
        wait_for(lambda: all(c.call("getbestblockhash") == tip for c in clients), what="relay")
        for c in clients:
            c.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        for i in range(3):  # clean stop of every node: cookies removed
            assert not (tmp_path / f"node{i}" / ".cookie").exists()
            assert (tmp_path / f"node{i}" / "chain.sqlite").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
