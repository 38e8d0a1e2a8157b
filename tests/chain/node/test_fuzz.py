"""Fuzzing the node's HTTP endpoints: random and malformed payloads never get a 5xx, and the
node stays up. Seeded (reproducible), bounded in count and in time."""

from __future__ import annotations

import json
import random
import socket
import time

import pytest
import requests
from nodekit import wait_for

from sandbox_chain.node.app import build_dispatcher

pytestmark = [pytest.mark.network, pytest.mark.slow]

SEED = 20261122
CASES = 1000
TIME_BUDGET = 40.0  # seconds; the loop stops early rather than run long on a slow machine
SKIP = {"stop"}  # the one method that is meant to end the node


class _Stub:
    """Just enough of a Node for the dispatcher to list its methods."""

    params = None
    on_block: list = []
    on_tx: list = []

    class peers:  # noqa: N801
        lock = None

    def chain_call(self, *a, **k):  # pragma: no cover - never called
        raise AssertionError


def _method_names() -> list[str]:
    return sorted(set(build_dispatcher(_Stub()).methods) - SKIP)  # type: ignore[arg-type]


def random_json(rng: random.Random, depth: int = 0):
    choice = rng.randrange(12 if depth < 3 else 8)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, 1, -1, 2, 101, 2**31, -(2**63), 10**30, 0xFFFFFFFF])
    if choice == 3:
        return rng.choice([0.5, -1.25, 1e300, 21e6, 0.00000001])
    if choice == 4:
        return "".join(
            rng.choice("0123456789abcdefxyz \u00e9\u4e2d") for _ in range(rng.randrange(70))
        )
    if choice == 5:
        return rng.choice(
            ["00" * 32, "ff" * 32, "zz", "", "0" * 63, "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"]
        )
    if choice == 6:
        return rng.randbytes(rng.randrange(0, 200)).hex()
    if choice == 7:
        return rng.choice(["add", "remove", "onetry", "start", "127.0.0.1:1", "raw(51)", "addr(x)"])
    if choice in (8, 9):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["height", "blockhash", "verbose", "x", "txid"]): random_json(rng, depth + 1)
    }


def random_body(rng: random.Random, methods: list[str]) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 300))
    if kind == 1:
        return rng.choice(
            [
                b"",
                b"[]",
                b"{}",
                b"null",
                b"[1,2]",
                b'"x"',
                b"NaN",
                b"1e999",
                b'{"method": NaN}',
                b"[" * 50_000,
                b'{"id":' * 5_000,
                b"\xff\xfe{}",
                b'{"method":"getblockcount","params":' + b"[" * 3000 + b"]" * 3000 + b"}",
            ]
        )

    def request():
        req = {"method": rng.choice(methods) if rng.random() < 0.9 else random_json(rng)}
        if rng.random() < 0.8:
            req["params"] = (
                random_json(rng)
                if rng.random() < 0.2
                else [random_json(rng) for _ in range(rng.randrange(5))]
            )
        if rng.random() < 0.5:
            req["jsonrpc"] = rng.choice(["2.0", "1.0", "3.0", 2])
        if rng.random() < 0.8:
            req["id"] = random_json(rng)
        return req

    if kind == 2:
        return json.dumps([request() for _ in range(rng.randrange(1, 6))]).encode()
    return json.dumps(request()).encode()


def raw_http(node, payload: bytes) -> bytes:
    host, port = node.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_random_rpc_payloads_never_get_a_5xx(node):
    rng = random.Random(SEED)
    methods = _method_names()
    assert "getblock" in methods and "sendrawtransaction" in methods
    session = requests.Session()
    session.auth = node.cookie()
    start = time.monotonic()
    statuses: dict[int, int] = {}
    for _ in range(CASES):
        if time.monotonic() - start > TIME_BUDGET:
            break
        body = random_body(rng, methods)
        r = session.post(node.url + "/", data=body, timeout=30)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (body[:200], r.status_code, r.text[:200])
        if r.status_code == 200:
            reply = r.json()
            for item in reply if isinstance(reply, list) else [reply]:
                assert set(item) >= {"result", "error", "id"}
                if item["error"] is not None:
                    assert isinstance(item["error"]["code"], int) and item["error"]["message"]
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0
    assert node.rpc.getblockcount() >= 0 and node.proc.poll() is None


def test_rest_and_p2p_garbage_never_get_a_5xx(node):
    rng = random.Random(SEED + 1)
    paths = [
        "/rest/block/",
        "/rest/tx/",
        "/rest/address/",
        "/rest/blockhashbyheight/",
        "/rest/blocks?limit=",
        "/rest/blocks?from=",
        "/rest/",
        "/p2p/",
        "/",
    ]
    for _ in range(150):
        tail = "".join(rng.choice("0af%./?&=-x\u00e9") for _ in range(rng.randrange(80)))
        r = requests.get(node.url + rng.choice(paths) + tail, timeout=30)
        assert r.status_code < 500, (tail, r.status_code)
    p2p = f"http://127.0.0.1:{node.info['port']}"
    for path in ["/p2p/version", "/p2p/inv", "/p2p/getblocks", "/p2p/block/00", "/x"]:
        for headers in ({}, {"X-Lune-Port": "1"}, {"X-Lune-Port": "99999999"}):
            r = requests.post(p2p + path, data=rng.randbytes(100), headers=headers, timeout=30)
            assert r.status_code < 500
    assert node.rpc.getblockcount() >= 0


def test_malformed_http_never_gets_a_5xx(node):
    auth = (
        "Authorization: Basic "
        + __import__("base64").b64encode(":".join(node.cookie()).encode()).decode()
    )
    cases = [
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\n" + b"X: " + b"a" * 70_000 + b"\r\n\r\n",
        b"POST / HTTP/1.1\r\n" + b"X: a\r\n" * 200 + b"\r\n",
        b"GET /rest/chaininfo HTTP/9.9\r\n\r\n",
        ("POST / HTTP/1.1\r\n" + auth + '\r\nContent-Length: 100\r\n\r\n{"method"').encode(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
    ]
    for payload in cases:
        reply = raw_http(node, payload)
        if reply:
            status = int(reply.split(b" ", 2)[1])
            assert status < 500, (payload[:60], reply[:100])
    assert node.rpc.getblockcount() >= 0 and node.proc.poll() is None


def test_connection_flood_is_turned_away_and_the_node_recovers(node):
    host, port = node.url.split("//")[1].split(":")
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(80)]
    try:
        refused = 0
        for s in socks[64:]:
            s.settimeout(5)
            try:
                refused += s.recv(100).startswith(b"HTTP/1.1 429")
            except TimeoutError:
                pass
        assert refused >= 10
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: node.rpc.getblockcount() >= 0, what="node answers again")
