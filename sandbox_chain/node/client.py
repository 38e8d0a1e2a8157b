"""A small JSON-RPC client for the node (and for Bitcoin Core: it speaks the same dialect).

`RPCClient.from_datadir(DIR)` finds a running node through the `node.json` and `.cookie` files
it writes in its data directory, as `bitcoin-cli -datadir=DIR` does.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import COOKIE_NAME, NODE_INFO_NAME
from .rpc.dispatch import RPCError


class RPCConnectionError(Exception):
    """The node could not be reached (not running, wrong port, bad credentials)."""


class RPCClient:
    """Call methods with `client.call("getblockcount")` or `client.getblockcount()`."""

    def __init__(self, url: str, user: str, password: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 18443
        self.timeout = timeout
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = f"Basic {token}"
        self._ids = itertools.count(1)
        self._conn: http.client.HTTPConnection | None = None

    @classmethod
    def from_datadir(cls, datadir: str | Path, timeout: float = 60.0) -> RPCClient:
        """A client for the node running on `datadir` (reads node.json and .cookie)."""
        d = Path(datadir)
        try:
            info = json.loads((d / NODE_INFO_NAME).read_text())
            user, _, password = (d / COOKIE_NAME).read_text().strip().partition(":")
        except (OSError, ValueError) as exc:
            raise RPCConnectionError(
                f"no running node found in {d} (start one with `lune chain node --datadir {d}`)"
            ) from exc
        return cls(info["rpc_url"], user, password, timeout)

    def close(self) -> None:
        """Close the kept-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, payload: bytes) -> tuple[int, bytes]:
        for attempt in range(2):  # a kept-alive connection may have been closed by the server
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(
                    "POST",
                    "/",
                    payload,
                    {"Authorization": self._auth, "Content-Type": "application/json"},
                )
                resp = self._conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 1:
                    raise RPCConnectionError(
                        f"cannot reach {self.host}:{self.port}: {exc}"
                    ) from exc
        raise AssertionError("unreachable")

    def call(self, method: str, *params: Any) -> Any:
        """Call one method with positional parameters; raise `RPCError` on an error reply."""
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        ).encode()
        status, data = self._post(body)
        if status == 401:
            raise RPCConnectionError("the node refused our credentials (HTTP 401)")
        try:
            reply = json.loads(data, parse_float=Decimal)  # amounts stay exact
        except ValueError as exc:
            raise RPCConnectionError(f"HTTP {status}: not a JSON-RPC reply") from exc
        if reply.get("error"):
            raise RPCError(reply["error"]["code"], reply["error"]["message"])
        return reply.get("result")

    def batch(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Send [(method, *params), ...] as one JSON-RPC batch; return results in order.

        A failed call's place holds its `RPCError` instead of a result (nothing is raised for
        it), as a batch's calls succeed or fail one by one.
        """
        first = next(self._ids)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": c[0], "params": list(c[1:])}
            for i, c in enumerate(calls)
        ]
        for _ in calls[1:]:
            next(self._ids)
        status, data = self._post(json.dumps(body).encode())
        if status == 401:
            raise RPCConnectionError("the node refused our credentials (HTTP 401)")
        try:
            replies = {r["id"]: r for r in json.loads(data, parse_float=Decimal)}
        except (ValueError, TypeError, KeyError) as exc:
            raise RPCConnectionError(f"HTTP {status}: not a JSON-RPC batch reply") from exc
        out: list[Any] = []
        for i in range(len(calls)):
            reply = replies.get(first + i, {})
            err = reply.get("error")
            out.append(RPCError(err["code"], err["message"]) if err else reply.get("result"))
        return out

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *params: self.call(name, *params)
