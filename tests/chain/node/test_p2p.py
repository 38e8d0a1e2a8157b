"""Several nodes on loopback: relay, catch-up, fork resolution, reorg, misbehaving peers."""

from __future__ import annotations

import json
import urllib.request

import pytest
from nodekit import wait_for

from sandbox_chain.block import Block, BlockHeader, merkle_root
from sandbox_chain.keys import PrivateKey
from sandbox_chain.miner import coinbase_transaction
from sandbox_chain.node.server import HTTPService, Response, json_response
from sandbox_chain.params import REGTEST
from sandbox_chain.pow import solve_header
from sandbox_chain.script import p2pkh_script

pytestmark = [pytest.mark.network, pytest.mark.slow]

KEY = PrivateKey.from_int(0xA11CE)
ADDRESS = KEY.public_key().address(REGTEST)
OTHER = PrivateKey.from_int(0xB0B).public_key().address(REGTEST)


def tips(*nodes):
    return [n.rpc.getbestblockhash() for n in nodes]


def converged(*nodes):
    t = tips(*nodes)
    return t[0] if len(set(t)) == 1 else None


def test_three_nodes_relay_partition_heavier_fork_and_reorg(node_factory):
    a = node_factory("a")
    b = node_factory("b", "--connect", a.addr)
    c = node_factory("c")
    c.rpc.addnode(a.addr, "add")  # the RPC way; B used --connect
    wait_for(lambda: a.rpc.getconnectioncount() == 2, what="A has two peers")
    peers = a.rpc.getpeerinfo()
    assert {p["addr"] for p in peers} == {b.addr, c.addr} and all(p["inbound"] for p in peers)
    assert b.rpc.getpeerinfo()[0]["connection_type"] == "outbound-full-relay"
    assert a.rpc.getnetworkinfo()["connections_in"] == 2

    # Mine on A: B and C see it (B and C are connected through A only).
    a.rpc.generatetoaddress(3, ADDRESS)
    wait_for(lambda: converged(a, b, c) and b.rpc.getblockcount() == 3, what="relay of 3 blocks")

    # A transaction relays too: the faucet mines its coins to maturity on A and pays.
    t1 = a.rpc.faucet(ADDRESS, 1)["txid"]
    wait_for(lambda: t1 in c.rpc.getrawmempool(), what="tx relay to C")
    a.rpc.generatetoaddress(1, ADDRESS)
    wait_for(lambda: converged(a, b, c) and c.rpc.getrawmempool() == [], what="sync after faucet")
    fork_height = a.rpc.getblockcount()

    # Partition: C stops. A confirms T2 in one block; B follows.
    c.stop()
    t2 = a.rpc.faucet(OTHER, 1)["txid"]
    [a_block] = a.rpc.generatetoaddress(1, ADDRESS)
    wait_for(lambda: b.rpc.getbestblockhash() == a_block, what="B follows A")
    assert t2 in a.rpc.getblock(a_block)["tx"]

    # C, alone, mines a heavier branch (3 blocks against 1) from the fork point.
    c.start()
    assert c.rpc.getblockcount() == fork_height  # resumed from its data directory
    assert c.rpc.getconnectioncount() == 0  # addnode is not persistent, as in Core
    c_tip = c.rpc.generatetoaddress(3, ADDRESS)[-1]
    c.stop()

    # Reconnect: everybody converges on C's branch, the most work.
    c.start("--connect", a.addr)
    wait_for(lambda: converged(a, b, c) == c_tip, timeout=30, what="convergence on C's branch")
    assert a.rpc.getblockcount() == fork_height + 3
    assert {t["status"] for t in a.rpc.getchaintips()} == {"active", "valid-fork"}
    # T2 was in A's disconnected block: it is back in A's mempool, and gets mined again.
    assert t2 in a.rpc.getrawmempool()
    [again] = a.rpc.generatetoaddress(1, ADDRESS)
    assert t2 in a.rpc.getblock(again)["tx"]
    wait_for(lambda: converged(a, b, c) == again, what="all see T2 mined again")
    assert c.rpc.getrawtransaction(t2, True)["blockhash"] == again


class FakePeer:
    """A peer speaking our P2P protocol from the test, serving whatever block bytes we choose."""

    def __init__(self) -> None:
        self.blocks: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.service = HTTPService(("127.0.0.1", 0), self, name="fake-peer")
        self.service.start()

    def handle(self, request):
        self.requests.append(request.path)
        if request.path.startswith("/p2p/block/"):
            raw = self.blocks.get(request.path.rsplit("/", 1)[1])
            return Response(200, raw, "application/octet-stream") if raw else Response(404)
        if request.path == "/p2p/getblocks":
            return json_response(200, {"hashes": []})
        return json_response(200, {"ok": True})

    def send(self, node, path, body: bytes, header_port: int | None = None) -> int:
        req = urllib.request.Request(f"http://{node.addr}{path}", data=body, method="POST")
        req.add_header("X-Lune-Port", str(header_port or self.service.port))
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def handshake(self, node, header_port: int | None = None) -> int:
        version = {
            "network": "regtest",
            "genesis": REGTEST.genesis_hash[::-1].hex(),
            "height": 0,
            "tip": REGTEST.genesis_hash[::-1].hex(),
            "port": self.service.port,
            "user_agent": "/evil:0/",
            "nonce": 42,
        }
        return self.send(node, "/p2p/version", json.dumps(version).encode(), header_port)


def invalid_child_block(node) -> Block:
    """A block on the node's tip whose coinbase claims 100 coins (bad-cb-amount), with valid PoW."""
    tip = node.rpc.getblock(node.rpc.getbestblockhash())
    script = p2pkh_script(KEY.public_key().hash160())
    cb = coinbase_transaction(tip["height"] + 1, script, 100 * 100_000_000)
    root, _ = merkle_root([cb.txid()])
    header = BlockHeader(
        0x20000000, bytes.fromhex(tip["hash"])[::-1], root, tip["time"] + 1, 0x207FFFFF, 0
    )
    return Block(solve_header(header, REGTEST), [cb])


def test_misbehaving_peer_is_banned_and_its_block_never_becomes_tip(node_factory):
    n = node_factory("victim")
    n.rpc.generatetoaddress(2, ADDRESS)
    tip = n.rpc.getbestblockhash()
    evil = FakePeer()
    try:
        # Garbage before a handshake is refused; a wrong genesis is refused.
        assert evil.send(n, "/p2p/inv", b"\x00\xffgarbage") == 403
        assert evil.send(n, "/p2p/version", b"{}") == 400
        other_net = {
            "network": "classroom",
            "genesis": "11" * 32,
            "height": 0,
            "port": 1,
            "nonce": 1,
        }
        assert evil.send(n, "/p2p/version", json.dumps(other_net).encode()) == 400
        assert evil.handshake(n) == 200
        # Garbage after the handshake: 400s and misbehaviour points, the node keeps serving.
        assert evil.send(n, "/p2p/inv", b"not json") == 400
        assert evil.send(n, "/p2p/inv", json.dumps({"blocks": ["zz"]}).encode()) == 400
        # An invalid block, announced then served: fetched, rejected, peer banned.
        bad = invalid_child_block(n)
        evil.blocks[bad.hash_hex] = bad.serialize()
        assert evil.send(n, "/p2p/inv", json.dumps({"blocks": [bad.hash_hex]}).encode()) == 200
        wait_for(lambda: n.rpc.listbanned(), what="ban")
        assert f"/p2p/block/{bad.hash_hex}" in evil.requests
        assert n.rpc.getbestblockhash() == tip
        assert evil.handshake(n) == 403  # banned: even the handshake is refused
        # ... also when the header names another port than the banned one the version gives.
        assert evil.handshake(n, header_port=1) == 403
        assert n.rpc.getpeerinfo() == []
        # The node still works: it mines and answers.
        n.rpc.generatetoaddress(1, ADDRESS)
        assert n.rpc.getblockcount() == 3
    finally:
        evil.service.stop()


def test_unparseable_block_bytes_ban_the_sender(node_factory):
    n = node_factory("victim2")
    tip = n.rpc.getbestblockhash()
    evil = FakePeer()
    try:
        assert evil.handshake(n) == 200
        fake_hash = "11" * 32
        evil.blocks[fake_hash] = b"\x01\x02garbage" * 10
        assert evil.send(n, "/p2p/inv", json.dumps({"blocks": [fake_hash]}).encode()) == 200
        wait_for(lambda: n.rpc.listbanned(), what="ban")
        assert n.rpc.getbestblockhash() == tip and n.rpc.getblockcount() == 0
    finally:
        evil.service.stop()
