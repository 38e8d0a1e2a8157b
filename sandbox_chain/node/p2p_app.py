"""The P2P port's application: answers the messages of `p2p` (see its docstring).

Every request names its sender by `X-Lune-Port`; a banned sender gets 403, a sender that has
not done the handshake gets 403 for anything but `POST /p2p/version`, and malformed messages
cost misbehaviour points (`PeerManager.misbehaving`).
"""

from __future__ import annotations

import json
from typing import Any

from ..encoding import hash_to_hex, hex_to_hash
from .context import NodeContext
from .p2p import _HASH, MAX_GETBLOCKS, MAX_PEERS, _parse_hashes
from .server import Request, Response, error_response, json_response


class P2PApp:
    """The P2P port: answers the messages in the module docstring."""

    def __init__(self, node: NodeContext) -> None:
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
        if request.method == "POST" and path == "/p2p/gettxs":
            return self._gettxs(addr, request)
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
        # The peer is named by the port its version gives, which may differ from the header's:
        # the ban is checked again under that name, or a banned peer could come back.
        addr = f"{request.client[0]}:{version['port']}"
        if self.peers.is_banned(addr):
            return error_response(403, "banned")
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

    def _gettxs(self, addr: str, request: Request) -> Response:
        body = self._json_body(addr, request)
        txids = _parse_hashes(body.get("txids") if isinstance(body, dict) else None)
        if txids is None:
            self.peers.misbehaving(addr, 20, "malformed gettxs")
            return error_response(400, "malformed gettxs")
        raws = self.node.chain_call(lambda c: [_raw_mempool_tx(c, t) for t in txids])
        return json_response(200, {"txs": [r.hex() for r in raws if r is not None]})

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
