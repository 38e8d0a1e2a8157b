"""SIGKILL a node while it syncs and mines: nothing it acknowledged is lost, it resumes and
converges with its peer."""

from __future__ import annotations

import random
import threading
import time

import pytest
from nodekit import wait_for

from sandbox_chain.keys import PrivateKey
from sandbox_chain.node.client import RPCClient, RPCConnectionError
from sandbox_chain.node.rpc import RPCError
from sandbox_chain.params import REGTEST

pytestmark = [pytest.mark.network, pytest.mark.crash, pytest.mark.slow]

TRIALS = 4
ADDR_A = PrivateKey.from_int(0xAAA).public_key().address(REGTEST)
ADDR_B = PrivateKey.from_int(0xBBB).public_key().address(REGTEST)


def keep_mining(client: RPCClient, address: str, acked: list[str], stop: threading.Event) -> None:
    """Mine one block at a time until stopped or the node dies; record acknowledged hashes."""
    while not stop.is_set():
        try:
            acked.extend(client.call("generatetoaddress", 1, address))
        except (RPCConnectionError, RPCError, OSError):
            return


def test_sigkill_while_syncing_and_mining_loses_nothing_acknowledged(node_factory):
    rng = random.Random(7)
    a = node_factory("a")
    b = node_factory("b", "--connect", a.addr)
    wait_for(lambda: a.rpc.getconnectioncount() == 1, what="connection")
    acked_b: list[str] = []
    for _ in range(TRIALS):
        stop = threading.Event()
        client_a = RPCClient(a.info["rpc_url"], *a.cookie(), timeout=30)
        client_b = RPCClient(b.info["rpc_url"], *b.cookie(), timeout=30)
        acked_now: list[str] = []
        threads = [
            threading.Thread(target=keep_mining, args=(client_a, ADDR_A, [], stop)),
            threading.Thread(target=keep_mining, args=(client_b, ADDR_B, acked_now, stop)),
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.2))
        b.kill()  # while both mine and B syncs A's blocks
        stop.set()
        for t in threads:
            t.join(30)
        client_a.close()
        acked_b.extend(acked_now)
        b.start()
        for h in acked_b:  # every block B answered with is still there after the crash
            assert b.rpc.getblockheader(h)["hash"] == h
    assert len(acked_b) >= TRIALS  # B did mine in the trials

    # Converge: one more block on A makes A's branch the heaviest for both.
    def same_tip():
        if a.rpc.getbestblockhash() != b.rpc.getbestblockhash():
            a.rpc.generatetoaddress(1, ADDR_A)
            return False
        return True

    wait_for(same_tip, timeout=45, interval=1.0, what="convergence after the crashes")
    info = b.rpc.getblockchaininfo()
    assert info["blocks"] == a.rpc.getblockcount()
