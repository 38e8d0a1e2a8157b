"""Peer-to-peer sync between sandbox nodes: Bitcoin's message flow, carried over HTTP.

Bitcoin's P2P protocol (BIP-14 `version`/`verack`, `inv`/`getdata`, `getblocks` with a block
locator, misbehaviour scores) is kept as a *flow*; each message is an HTTP request on the P2P
port instead of a framed TCP message, so a learner can watch it with curl. Every request carries
`X-Lune-Port` (the sender's own P2P port, which names the peer) and `X-Lune-Genesis`.

* handshake: `POST /p2p/version` with JSON `{network, genesis, height, tip, port,
  user_agent, nonce}`, answered with ours (Bitcoin's `version` + `verack`);
* announce: `POST /p2p/inv` with `{"blocks": [hash…], "txs": [txid…]}` (`inv`);
* fetch a block: `GET /p2p/block/<hash>` → raw block bytes (`getdata` MSG_BLOCK);
* fetch a transaction: `GET /p2p/tx/<txid>` → raw bytes from the mempool (`getdata` MSG_TX),
  or many at once: `POST /p2p/gettxs` with `{"txids": [...]}` → `{"txs": [hex…]}`;
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

import http.client
import json
import logging
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..block import Block
from ..encoding import hash_to_hex, hex_to_hash
from ..errors import ChainError, ParseError, ValidationError
from ..transaction import Transaction
from .chainaccess import ChainAccess
from .config import USER_AGENT

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
    id: int = 0

    def url(self, path: str) -> str:
        """The URL of `path` on this peer's P2P port."""
        return f"http://{self.addr}{path}"


class PeerError(Exception):
    """A peer could not be reached or answered something unusable."""


class PeerManager:
    """Peers, the handshake, relay and catch-up: two worker threads and bounded queues."""

    def __init__(self, node: ChainAccess) -> None:
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
        self._local = threading.local()  # per-thread kept-alive connections to peers
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
                now = time.time()
                # Expired bans go when a new one comes: the list is keyed by what peers send,
                # so it holds only bans still running.
                for old in [a for a, until in self.banned.items() if until < now]:
                    del self.banned[old]
                self.banned[addr] = now + BAN_TIME
                self.peers.pop(addr, None)
                log.warning("peer %s banned for %d s", addr, BAN_TIME)

    def _register(self, addr: str, inbound: bool, version: dict[str, Any]) -> Peer:
        with self.lock:
            peer = self.peers.get(addr)
            if peer is None:
                self._next_id += 1
                peer = Peer(addr=addr, inbound=inbound, id=self._next_id)
                self.peers[addr] = peer
                log.info("peer %s connected (%s)", addr, "inbound" if inbound else "outbound")
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
            "port": self.node.p2p_port,
            "user_agent": USER_AGENT,
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

    def _connection(self, peer_addr: str) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's kept-alive connection to a peer, and whether it is a reused one."""
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        conn = pool.get(peer_addr)
        if conn is not None:
            return conn, True
        host, _, port = peer_addr.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
        pool[peer_addr] = conn
        return conn, False

    def _drop_connection(self, peer_addr: str) -> None:
        conn = getattr(self._local, "pool", {}).pop(peer_addr, None)
        if conn is not None:
            conn.close()

    def _http(self, peer_addr: str, method: str, path: str, body: Any = None) -> bytes:
        """One request to a peer's P2P port over a kept-alive connection; PeerError on failure."""
        data = None if body is None else json.dumps(body).encode()
        port = self.node.p2p_port
        headers = {
            "Content-Type": "application/json",
            "X-Lune-Port": str(port),
            "X-Lune-Genesis": hash_to_hex(self.node.params.genesis_hash),
        }
        limit = self.node.config.max_body
        for _ in range(2):  # a reused connection may have been closed by the peer meanwhile
            conn, reused = self._connection(peer_addr)
            try:
                conn.request(method, path, data, headers)
                resp = conn.getresponse()
                length = int(resp.getheader("Content-Length") or 0)
                if length > limit:
                    raise PeerError(f"{peer_addr} sent an oversize answer")
                payload = resp.read(length)
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    self._drop_connection(peer_addr)
                break
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop_connection(peer_addr)
                if not reused:
                    raise PeerError(f"{peer_addr} unreachable: {exc}") from exc
            except PeerError:
                self._drop_connection(peer_addr)
                raise
        else:  # pragma: no cover - the second attempt is on a fresh connection
            raise PeerError(f"{peer_addr} unreachable")
        if status >= 300:
            raise PeerError(f"{peer_addr} answered HTTP {status}")
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
        """Announce what was accepted, batched: one `inv` per peer for everything queued."""
        while not self.stopping:
            try:
                batch = [self.relay_queue.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(batch) < MAX_INV:
                try:
                    batch.append(self.relay_queue.get_nowait())
                except queue.Empty:
                    break
            for peer in self.snapshot():
                if self.stopping:
                    return
                body: dict[str, list[str]] = {"blocks": [], "txs": []}
                for kind, h, source in batch:
                    if source != peer.addr:
                        body["blocks" if kind == "block" else "txs"].append(hash_to_hex(h))
                if not body["blocks"] and not body["txs"]:
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

    def _failed_at(self, addr: str, exc: Exception) -> None:
        peer = self.peers.get(addr)
        if peer is not None:  # it may have been disconnected or banned meanwhile
            self._failed(peer, exc)

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
        """Fetch what peers announced: blocks one by one, transactions in batches per peer."""
        pending_txs: dict[str, list[bytes]] = {}
        for _ in range(MAX_QUEUE):
            if self.stopping:
                return
            try:
                kind, addr, h = self.fetch_queue.get_nowait()
            except queue.Empty:
                break
            if addr not in self.peers:
                continue
            if kind == "tx":
                pending_txs.setdefault(addr, []).append(h)
                continue
            try:
                self._fetch_block(addr, h)
            except PeerError as exc:
                self._failed_at(addr, exc)
        for addr, txids in pending_txs.items():
            try:
                self._fetch_txs(addr, txids)
            except PeerError as exc:
                self._failed_at(addr, exc)

    def _have_block(self, h: bytes) -> bool:
        # Every indexed block has its data (blocks are stored whole), so the index suffices.
        return self.node.chain_call(lambda c: c.get_header_info(h) is not None)

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

    def _fetch_txs(self, addr: str, txids: list[bytes]) -> None:
        """Download the announced transactions we lack (one request) and accept each."""
        wanted = self.node.chain_call(
            lambda c: [t for t in dict.fromkeys(txids) if c.mempool.get(t) is None]
        )
        if not wanted:
            return
        reply = self._http_json(
            addr, "POST", "/p2p/gettxs", {"txids": [hash_to_hex(t) for t in wanted]}
        )
        raws = reply.get("txs") if isinstance(reply, dict) else None
        if not isinstance(raws, list) or len(raws) > len(wanted):
            self.misbehaving(addr, 20, "bad gettxs reply")
            return
        for text in raws:
            try:
                tx = Transaction.parse(bytes.fromhex(text))
            except (ParseError, ValueError, TypeError) as exc:
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
        """Ask `peer` for the blocks after our locator and download the ones we lack.

        A full page of hashes asks for the next page from its last hash, even when we had
        them all (a long side branch stored earlier must not stall the sync on its first page).
        """
        last: bytes | None = None
        for _ in range(MAX_SYNC_ROUNDS):
            if self.stopping or peer.addr not in self.peers:
                return
            locator = self.node.chain_call(lambda c: c.locator())
            if last is not None:
                locator = [last, *locator]
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
            unknown = self.node.chain_call(
                lambda c, hs=hashes: [h for h in hs if c.get_header_info(h) is None]
            )
            for h in unknown:
                if self.stopping:
                    return
                try:
                    verdict = self._fetch_block(peer.addr, h)
                except PeerError as exc:
                    self._failed(peer, exc)
                    return
                if verdict is None:
                    return
            peer.failures = 0
            if len(hashes) < MAX_GETBLOCKS:
                return
            last = hashes[-1]


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
