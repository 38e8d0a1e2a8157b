"""Network RPCs in Bitcoin Core's shapes (`src/rpc/net.cpp`): getnetworkinfo, getpeerinfo,
getconnectioncount, addnode, disconnectnode, listbanned, clearbanned.

Each method is a module-level function taking the node's context first; `COMMANDS` lists them
with their parameters for the dispatcher."""

from __future__ import annotations

import re
import time
from typing import Any

from ...mempool import MIN_RELAY_FEE_PER_KB
from ..config import CLIENT_VERSION, PROTOCOL_VERSION, USER_AGENT
from ..context import NodeContext
from ..jsonfmt import amount
from ..p2p import BAN_TIME, PeerError
from .dispatch import (
    RPC_CLIENT_NODE_ALREADY_ADDED,
    RPC_CLIENT_NODE_NOT_ADDED,
    RPC_CLIENT_NODE_NOT_CONNECTED,
    RPC_INVALID_PARAMETER,
    RPC_INVALID_PARAMS,
    Command,
    Param,
    RPCError,
)

_NODE_ADDR = re.compile(r"^[A-Za-z0-9.\-]{1,253}:\d{1,5}$")


def check_node_address(text: str) -> str:
    """A peer address is "host:port" (Core also accepts a bare host; we need the port)."""
    if not _NODE_ADDR.match(text) or not 0 < int(text.rsplit(":", 1)[1]) < 65536:
        raise RPCError(RPC_INVALID_PARAMETER, f"Invalid node address {text!r}: expected host:port")
    return text


def getnetworkinfo(ctx: NodeContext) -> dict[str, Any]:
    """The node's version, protocol, connection counts and relay fees."""
    snapshot = ctx.peers.snapshot()
    inbound = sum(p.inbound for p in snapshot)
    return {
        "version": CLIENT_VERSION,
        "subversion": USER_AGENT,
        "protocolversion": PROTOCOL_VERSION,
        "localservices": "0000000000000001",
        "localservicesnames": ["NETWORK"],
        "localrelay": True,
        "timeoffset": 0,
        "networkactive": True,
        "connections": len(snapshot),
        "connections_in": inbound,
        "connections_out": len(snapshot) - inbound,
        "networks": [
            {
                "name": "ipv4",
                "limited": False,
                "reachable": True,
                "proxy": "",
                "proxy_randomize_credentials": False,
            }
        ],
        "relayfee": amount(MIN_RELAY_FEE_PER_KB),
        "incrementalfee": amount(MIN_RELAY_FEE_PER_KB),
        "localaddresses": [],
        "warnings": "",
    }


def getpeerinfo(ctx: NodeContext) -> list[dict[str, Any]]:
    """One entry per connected peer: address, direction, traffic, misbehaviour score."""
    out = []
    for p in ctx.peers.snapshot():
        out.append(
            {
                "id": p.id,
                "addr": p.addr,
                "network": "ipv4",
                "services": "0000000000000001",
                "servicesnames": ["NETWORK"],
                "relaytxes": True,
                "lastsend": int(p.last_send),
                "lastrecv": int(p.last_recv),
                "bytessent": p.bytes_sent,
                "bytesrecv": p.bytes_recv,
                "conntime": int(p.connected_at),
                "timeoffset": 0,
                "version": PROTOCOL_VERSION,
                "subver": p.user_agent,
                "inbound": p.inbound,
                "startingheight": p.start_height,
                "misbehavior": p.misbehavior,
                "connection_type": "inbound" if p.inbound else "outbound-full-relay",
            }
        )
    return out


def getconnectioncount(ctx: NodeContext) -> int:
    """The number of connected peers."""
    return len(ctx.peers.snapshot())


def addnode(ctx: NodeContext, node: str, command: str) -> None:
    """Add, remove or try once a peer given as host:port."""
    peers = ctx.peers
    if command not in ("add", "remove", "onetry"):
        raise RPCError(RPC_INVALID_PARAMETER, "addnode: command must be one of add, remove, onetry")
    check_node_address(node)
    if command == "remove":
        with peers.lock:
            if node not in peers.added:
                raise RPCError(
                    RPC_CLIENT_NODE_NOT_ADDED,
                    "Error: Node could not be removed. It has not been added previously.",
                )
            peers.added.discard(node)
        peers.disconnect(node)
        return None
    if command == "add":
        with peers.lock:
            if node in peers.added:
                raise RPCError(RPC_CLIENT_NODE_ALREADY_ADDED, "Error: Node already added")
            peers.added.add(node)
    try:
        peers.connect(node)
    except PeerError:
        pass  # Core's addnode does not report connection failures; "add" keeps retrying
    peers.sync_wanted.set()
    return None


def disconnectnode(ctx: NodeContext, address: str | None = None, nodeid: int | None = None) -> None:
    """Disconnect a peer named by its address or (exclusive) its id."""
    peers = ctx.peers
    if address and nodeid is None:
        target: str | None = address
    elif nodeid is not None and not address:
        target = next((p.addr for p in peers.snapshot() if p.id == nodeid), None)
    else:
        raise RPCError(RPC_INVALID_PARAMS, "Only one of address and nodeid should be provided.")
    if target is None or not peers.disconnect(target):
        raise RPCError(RPC_CLIENT_NODE_NOT_CONNECTED, "Node not found in connected nodes")
    return None


def listbanned(ctx: NodeContext) -> list[dict[str, Any]]:
    """The peers banned for misbehaving, and when their bans end."""
    with ctx.peers.lock:
        items = list(ctx.peers.banned.items())
    now = int(time.time())
    # Every ban lasts BAN_TIME, so its start is known from its end.
    return [
        {
            "address": a,
            "ban_created": int(u - BAN_TIME),
            "banned_until": int(u),
            "ban_duration": int(BAN_TIME),
            "time_remaining": max(0, int(u) - now),
        }
        for a, u in items
    ]


def clearbanned(ctx: NodeContext) -> None:
    """Lift every ban."""
    with ctx.peers.lock:
        ctx.peers.banned.clear()
    return None


COMMANDS = [
    Command("getnetworkinfo", getnetworkinfo, category="network"),
    Command("getpeerinfo", getpeerinfo, category="network"),
    Command("getconnectioncount", getconnectioncount, category="network"),
    Command(
        "addnode", addnode, (Param("node", "str"), Param("command", "str")), category="network"
    ),
    Command(
        "disconnectnode",
        disconnectnode,
        (Param("address", "str", False), Param("nodeid", "num", False)),
        category="network",
    ),
    Command("listbanned", listbanned, category="network"),
    Command("clearbanned", clearbanned, category="network"),
]
