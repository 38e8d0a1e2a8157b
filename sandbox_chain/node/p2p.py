"""Peer-to-peer sync between sandbox nodes: Bitcoin's message flow, carried over HTTP.

Bitcoin's P2P protocol (BIP-14 `version`/`verack`, `inv`/`getdata`, `getblocks` with a block
locator, misbehaviour scores) is kept as a *flow*; each message is an HTTP request on the P2P
port instead of a framed TCP message, so a learner can watch it with curl. Every request carries
`X-Lune-Port` (the sender's own P2P port, which names the peer) and `X-Lune-Genesis`.

* handshake: `POST /p2p/version` with JSON `{network, genesis, height, tip, port,
  user_agent, nonce}`, answered with ours (Bitcoin's `version` + `verack`);
* announce: `POST /p2p/inv` with `{"blocks": [hash…], "txs": [txid…]}` (`inv`);
* fetch a block: `GET /p2p/block/<hash>` → raw block bytes (`getdata` MSG_BLOCK);
* fetch a transaction: `GET /p2p/tx/<txid>` → raw bytes from the mempool (`getdata` MSG_TX);
* catch up: `POST /p2p/getblocks` with `{"locator": [hash…], "limit": n}` →
  `{"hashes": […]}`, the active chain after the first locator entry we share (`getblocks`).

Rules, as Core's `net_processing.cpp` applies them:
* the handshake refuses another network or genesis, and a connection to ourselves (nonce);
* an announced block is fetched; if its parent is unknown we catch up with a locator;
  most-work fork choice is the chain's job, so catching up is all a reorg needs;
* a peer that sends an invalid block, unparseable bytes or garbage messages gains misbehaviour
  points; at 100 it is disconnected and banned (`BAN_TIME`), and nothing it sent is kept;
* every queue is bounded (a full queue drops announcements: the periodic catch-up repairs
  that), every network call has a timeout, and every loop ends when the node stops.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..block import Block
from ..encoding import hash_to_hex, hex_to_hash
from ..errors import ChainError, ParseError, ValidationError
from ..transaction import Transaction
from .server import Request, Response, error_response, json_response

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger(__name__)

BAN_SCORE = 100
BAN_TIME = 600.0  # seconds (Core: 24 h; a classroom wants a second chance sooner)
HTTP_TIMEOUT = 3.0
MAX_QUEUE = 1000
MAX_GETBLOCKS = 500
MAX_INV = 1000
MAX_SYNC_ROUNDS = 50  # per catch-up pass: 50 × 500 blocks, then the next pass continues
MAX_PEERS = 32
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Peer:
    """A connected peer, named by the address of its P2P port."""

    addr: str  # "host:port"
    inbound: bool
    user_agent: str = ""
    start_height: int = 0
    connected_at: float = field(default_factory=time.time)
    last_recv: float = 0.0
    last_send: float = 0.0
    bytes_recv: int = 0
    bytes_sent: int = 0
    misbehavior: int = 0
    failures: int = 0
    synced_height: int = -1
    id: int = 0

    def url(self, path: str) -> str:
        """The URL of `path` on this peer's P2P port."""
        return f"http://{self.addr}{path}"


class PeerError(Exception):
    """A peer could not be reached or answered something unusable."""


class PeerManager:
    """Peers, the handshake, relay and catch-up: two worker threads and bounded queues."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.nonce = secrets.randbits(63)
        self.peers: dict[str, Peer] = {}
        self.banned: dict[str, float] = {}
        self.added: set[str] = set()  # addresses to keep connected (--connect, addnode add)
        self.lock = threading.RLock()
        self.fetch_queue: queue.Queue[tuple[str, str, bytes]] = queue.Queue(MAX_QUEUE)
        self.relay_queue: queue.Queue[tuple[str, bytes, str | None]] = queue.Queue(MAX_QUEUE)
        self.sync_wanted = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_id = 0
        node.on_block.append(lambda h, src: self._enqueue_relay("block", h, src))
        node.on_tx.append(lambda h, src: self._enqueue_relay("tx", h, src))

    # --- life cycle ---------------------------------------------------------------------

    def start(self, connect: list[str]) -> None:
        """Remember the peers to connect to and start the worker threads."""
        self.added.update(connect)
        for name, target in (("p2p-sync", self._sync_loop), ("p2p-relay", self._relay_loop)):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self.sync_wanted.set()

    def stop(self) -> None:
        """Wake the workers up and wait for them (each wait in them is bounded)."""
        self.sync_wanted.set()
        for t in self._threads:
            t.join(timeout=HTTP_TIMEOUT * 3)

    @property
    def stopping(self) -> bool:
        """True once the node is shutting down."""
        return self.node.stop_event.is_set()

    # --- peers, bans -------------------------------------------------------------------

    def snapshot(self) -> list[Peer]:
        """The connected peers (a copy, safe to read without the lock)."""
        with self.lock:
            return list(self.peers.values())

    def is_banned(self, addr: str) -> bool:
        """True if `addr` misbehaved recently."""
        with self.lock:
            until = self.banned.get(addr)
            if until is not None and until < time.time():
                del self.banned[addr]
                return False
            return until is not None

    def misbehaving(self, addr: str, howmuch: int, why: str) -> None:
        """Add misbehaviour points (Core's `Misbehaving`); ban and disconnect at BAN_SCORE."""
        with self.lock:
            peer = self.peers.get(addr)
            score = howmuch + (peer.misbehavior if peer else 0)
            if peer:
                peer.misbehavior = score
            log.warning("peer %s misbehaving (+%d → %d): %s", addr, howmuch, score, why)
            if score >= BAN_SCORE:
                self.banned[addr] = time.time() + BAN_TIME
                self.peers.pop(addr, None)

    def _register(self, addr: str, inbound: bool, version: dict[str, Any]) -> Peer:
        with self.lock:
            peer = self.peers.get(addr)
            if peer is None:
                self._next_id += 1
                peer = Peer(addr=addr, inbound=inbound, id=self._next_id)
                self.peers[addr] = peer
            peer.user_agent = str(version.get("user_agent", ""))[:256]
            height = version.get("height")
            peer.start_height = height if isinstance(height, int) else 0
            peer.last_recv = time.time()
        self.sync_wanted.set()
        return peer

    def disconnect(self, addr: str) -> bool:
        """Forget a connected peer (it may come back through a handshake)."""
        with self.lock:
            return self.peers.pop(addr, None) is not None

    def version_message(self) -> dict[str, Any]:
        """Our half of the handshake."""
        tip, height = self.node.chain_call(lambda c: (c.tip, c.height))
        return {
            "network": self.node.params.name,
            "genesis": hash_to_hex(self.node.params.genesis_hash),
            "height": height,
            "tip": hash_to_hex(tip),
            "port": self.node.p2p_service.port if self.node.p2p_service else 0,
            "user_agent": "/lune-node:0.1.0/",
            "nonce": self.nonce,
        }

    def check_version(self, version: Any) -> str | None:
        """Why a handshake is refused, or None if it is acceptable."""
        if not isinstance(version, dict):
            return "version must be a JSON object"
        if version.get("genesis") != hash_to_hex(self.node.params.genesis_hash):
            return "different genesis block (another network)"
        if version.get("network") != self.node.params.name:
            return "different network"
        if version.get("nonce") == self.nonce:
            return "connected to self"
        port = version.get("port")
        if not isinstance(port, int) or not 0 < port < 65536:
            return "bad port"
        return None

    # --- outbound HTTP -----------------------------------------------------------------

    def _http(self, peer_addr: str, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{peer_addr}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        port = self.node.p2p_service.port if self.node.p2p_service else 0
        req.add_header("X-Lune-Port", str(port))
        req.add_header("X-Lune-Genesis", hash_to_hex(self.node.params.genesis_hash))
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
                payload = resp.read(self.node.config.max_body + 1)
        except urllib.error.HTTPError as exc:
            raise PeerError(f"{peer_addr} answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise PeerError(f"{peer_addr} unreachable: {exc}") from exc
        if len(payload) > self.node.config.max_body:
            raise PeerError(f"{peer_addr} sent an oversize answer")
        with self.lock:
            peer = self.peers.get(peer_addr)
            if peer is not None:
                peer.last_send = peer.last_recv = time.time()
                peer.bytes_sent += len(data or b"")
                peer.bytes_recv += len(payload)
        return payload

    def _http_json(self, peer_addr: str, method: str, path: str, body: Any = None) -> Any:
        raw = self._http(peer_addr, method, path, body)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise PeerError(f"{peer_addr} sent invalid JSON") from exc

    def connect(self, addr: str) -> Peer:
        """Handshake with the node listening at `addr` ("host:port"); raises PeerError."""
        if self.is_banned(addr):
            raise PeerError(f"{addr} is banned")
        version = self._http_json(addr, "POST", "/p2p/version", self.version_message())
        why = self.check_version(version)
        if why is not None:
            raise PeerError(f"handshake with {addr} refused: {why}")
        return self._register(addr, inbound=False, version=version)

    # --- inbound messages (called by P2PApp) ---------------------------------------------

    def on_announce(self, addr: str, blocks: list[bytes], txs: list[bytes]) -> None:
        """Queue fetches for what a peer announced (dropped when the queue is full)."""
        for kind, hashes in (("block", blocks), ("tx", txs)):
            for h in hashes:
                try:
                    self.fetch_queue.put_nowait((kind, addr, h))
                except queue.Full:
                    self.sync_wanted.set()
                    return
        self.sync_wanted.set()

    def _enqueue_relay(self, kind: str, h: bytes, source: Any) -> None:
        try:
            self.relay_queue.put_nowait((kind, h, source if isinstance(source, str) else None))
        except queue.Full:
            pass  # peers will catch up through getblocks

    # --- the workers ---------------------------------------------------------------------

    def _relay_loop(self) -> None:
        while not self.stopping:
            try:
                kind, h, source = self.relay_queue.get(timeout=0.5)
            except queue.Empty:
                continue
            body = {"blocks": [hash_to_hex(h)]} if kind == "block" else {"txs": [hash_to_hex(h)]}
            for peer in self.snapshot():
                if peer.addr == source or self.stopping:
                    continue
                try:
                    self._http(peer.addr, "POST", "/p2p/inv", body)
                    peer.failures = 0
                except PeerError as exc:
                    self._failed(peer, exc)

    def _failed(self, peer: Peer, exc: Exception) -> None:
        peer.failures += 1
        log.info("peer %s: %s", peer.addr, exc)
        if peer.failures >= 3:
            self.disconnect(peer.addr)

    def _sync_loop(self) -> None:
        last_poll = 0.0
        while not self.stopping:
            self._drain_fetches()
            now = time.time()
            if self.sync_wanted.is_set() or now - last_poll >= self.node.config.sync_interval:
                self.sync_wanted.clear()
                last_poll = now
                self._connect_added()
                for peer in self.snapshot():
                    if self.stopping:
                        break
                    self.catch_up(peer)
            if self.fetch_queue.empty():
                self.sync_wanted.wait(0.2)

    def _connect_added(self) -> None:
        with self.lock:
            missing = [a for a in self.added if a not in self.peers and len(self.peers) < MAX_PEERS]
        for addr in missing:
            if self.stopping:
                return
            try:
                self.connect(addr)
            except PeerError as exc:
                log.debug("connect %s: %s", addr, exc)

    def _drain_fetches(self) -> None:
        for _ in range(MAX_QUEUE):
            if self.stopping:
                return
            try:
                kind, addr, h = self.fetch_queue.get_nowait()
            except queue.Empty:
                return
            if addr not in self.peers:
                continue
            try:
                if kind == "block":
                    self._fetch_block(addr, h)
                else:
                    self._fetch_tx(addr, h)
            except PeerError as exc:
                peer = self.peers.get(addr)
                if peer is not None:
                    self._failed(peer, exc)

    def _have_block(self, h: bytes) -> bool:
        return self.node.chain_call(lambda c: c.get_block(h) is not None)

    def _fetch_block(self, addr: str, h: bytes) -> str | None:
        """Download and submit one block; returns the verdict, None if the peer was punished."""
        if self._have_block(h):
            return "duplicate"
        raw = self._http(addr, "GET", f"/p2p/block/{hash_to_hex(h)}")
        try:
            block = Block.parse(raw)
        except ParseError as exc:
            self.misbehaving(addr, BAN_SCORE, f"unparseable block: {exc}")
            return None
        if block.hash() != h:
            self.misbehaving(addr, BAN_SCORE, "sent a block other than the one asked for")
            return None
        try:
            verdict = self.node.submit_block(block, source=addr)
        except ValidationError as exc:
            self.misbehaving(addr, BAN_SCORE, f"invalid block {hash_to_hex(h)}: {exc}")
            return None
        if verdict == "orphan":
            self.catch_up_addr(addr)
        return verdict

    def _fetch_tx(self, addr: str, txid: bytes) -> None:
        known = self.node.chain_call(lambda c: c.mempool.get(txid) is not None)
        if known:
            return
        raw = self._http(addr, "GET", f"/p2p/tx/{hash_to_hex(txid)}")
        try:
            tx = Transaction.parse(raw)
        except ParseError as exc:
            self.misbehaving(addr, 50, f"unparseable transaction: {exc}")
            return
        try:
            self.node.accept_tx(tx, source=addr)
        except ValidationError:
            pass  # policy or missing inputs: not the peer's fault in a sandbox
        except ChainError as exc:
            log.info("tx from %s not accepted: %s", addr, exc)

    def catch_up_addr(self, addr: str) -> None:
        """Catch up with the peer at `addr` if it is connected."""
        peer = self.peers.get(addr)
        if peer is not None:
            self.catch_up(peer)

    def catch_up(self, peer: Peer) -> None:
        """Ask `peer` for the blocks after our locator and download the ones we lack."""
        for _ in range(MAX_SYNC_ROUNDS):
            if self.stopping or peer.addr not in self.peers:
                return
            locator = self.node.chain_call(lambda c: c.locator())
            body = {"locator": [hash_to_hex(h) for h in locator], "limit": MAX_GETBLOCKS}
            try:
                reply = self._http_json(peer.addr, "POST", "/p2p/getblocks", body)
                hashes = _parse_hashes(reply.get("hashes") if isinstance(reply, dict) else None)
            except PeerError as exc:
                self._failed(peer, exc)
                return
            if hashes is None:
                self.misbehaving(peer.addr, 20, "bad getblocks reply")
                return
            fetched = 0
            for h in hashes:
                if self.stopping:
                    return
                try:
                    verdict = self._fetch_block(peer.addr, h)
                except PeerError as exc:
                    self._failed(peer, exc)
                    return
                if verdict is None:
                    return
                fetched += verdict != "duplicate"
            peer.failures = 0
            if len(hashes) < MAX_GETBLOCKS or fetched == 0:
                return


def _parse_hashes(value: Any, limit: int = MAX_INV) -> list[bytes] | None:
    """A JSON list of displayed hashes → internal hashes; None if anything is malformed."""
    if not isinstance(value, list) or len(value) > limit:
        return None
    out = []
    for item in value:
        if not isinstance(item, str) or not _HASH.match(item):
            return None
        out.append(hex_to_hash(item))
    return out


class P2PApp:
    """The P2P port: answers the messages in the module docstring."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.peers = node.peers

    def handle(self, request: Request) -> Response:
        """Route one P2P request; garbage costs the sender misbehaviour points."""
        path = request.path.split("?", 1)[0]
        port = request.headers.get("x-lune-port", "")
        if not port.isdigit() or not 0 < int(port) < 65536:
            return error_response(400, "X-Lune-Port header required")
        addr = f"{request.client[0]}:{int(port)}"
        if self.peers.is_banned(addr):
            return error_response(403, "banned")
        if request.method == "POST" and path == "/p2p/version":
            return self._version(addr, request)
        if addr not in self.peers.peers:
            return error_response(403, "handshake first (POST /p2p/version)")
        if request.method == "POST" and path == "/p2p/inv":
            return self._inv(addr, request)
        if request.method == "POST" and path == "/p2p/getblocks":
            return self._getblocks(addr, request)
        if request.method == "GET" and path.startswith("/p2p/block/"):
            return self._getdata(path[len("/p2p/block/") :], "block")
        if request.method == "GET" and path.startswith("/p2p/tx/"):
            return self._getdata(path[len("/p2p/tx/") :], "tx")
        self.peers.misbehaving(addr, 10, f"unknown message {request.method} {path[:60]}")
        return error_response(404, "unknown message")

    def _json_body(self, addr: str, request: Request) -> Any:
        try:
            return json.loads(request.body)
        except (ValueError, RecursionError):
            self.peers.misbehaving(addr, 20, "unparseable message")
            return None

    def _version(self, addr: str, request: Request) -> Response:
        try:
            version = json.loads(request.body)
        except (ValueError, RecursionError):
            return error_response(400, "version must be JSON")
        why = self.peers.check_version(version)
        if why is not None:
            return error_response(400, why)
        if len(self.peers.peers) >= MAX_PEERS and addr not in self.peers.peers:
            return error_response(403, "too many peers")
        addr = f"{request.client[0]}:{version['port']}"
        self.peers._register(addr, inbound=True, version=version)
        return json_response(200, self.peers.version_message())

    def _inv(self, addr: str, request: Request) -> Response:
        body = self._json_body(addr, request)
        if not isinstance(body, dict):
            self.peers.misbehaving(addr, 20, "inv is not an object")
            return error_response(400, "inv must be a JSON object")
        blocks = _parse_hashes(body.get("blocks", []))
        txs = _parse_hashes(body.get("txs", []))
        if blocks is None or txs is None:
            self.peers.misbehaving(addr, 20, "malformed inv")
            return error_response(400, "malformed inv")
        self.peers.on_announce(addr, blocks, txs)
        return json_response(200, {"ok": True})

    def _getblocks(self, addr: str, request: Request) -> Response:
        body = self._json_body(addr, request)
        locator = _parse_hashes(body.get("locator") if isinstance(body, dict) else None, 200)
        limit = body.get("limit", MAX_GETBLOCKS) if isinstance(body, dict) else None
        if locator is None or not isinstance(limit, int) or isinstance(limit, bool):
            self.peers.misbehaving(addr, 20, "malformed getblocks")
            return error_response(400, "malformed getblocks")
        limit = max(1, min(limit, MAX_GETBLOCKS))
        hashes = self.node.chain_call(blocks_after_locator, locator, limit)
        return json_response(200, {"hashes": [hash_to_hex(h) for h in hashes]})

    def _getdata(self, text: str, kind: str) -> Response:
        if not _HASH.match(text):
            return error_response(400, "bad hash")
        h = hex_to_hash(text)
        if kind == "block":
            raw = self.node.chain_call(lambda c: _raw_block(c, h))
        else:
            raw = self.node.chain_call(lambda c: _raw_mempool_tx(c, h))
        if raw is None:
            return error_response(404, f"{kind} not found")
        return Response(200, raw, content_type="application/octet-stream")


def _raw_block(chain: Any, h: bytes) -> bytes | None:
    block = chain.get_block(h)
    return None if block is None else block.serialize()


def _raw_mempool_tx(chain: Any, txid: bytes) -> bytes | None:
    tx = chain.mempool.get(txid)
    return None if tx is None else tx.serialize()


def blocks_after_locator(chain: Any, locator: list[bytes], limit: int) -> list[bytes]:
    """Hashes of our active chain after the first locator entry we have on it (Core's
    `getblocks`): the genesis is the fork point when nothing matches."""
    start = 0
    for h in locator:
        info = chain.get_header_info(h)
        if info is None:
            continue
        height = info.height if hasattr(info, "height") else info["height"]
        if chain.get_block_hash(height) == h:
            start = height
            break
    out = []
    for height in range(start + 1, min(chain.height, start + limit) + 1):
        out.append(chain.get_block_hash(height))
    return out
