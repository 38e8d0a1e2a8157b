"""How the portal reaches the sandbox node: JSON-RPC (Bitcoin Core's dialect) and the REST API.

The node is found in one of two ways, as `bitcoin-cli` finds Bitcoin Core:

* `NODE_URL` (`LUNE_NODE_URL`) names its RPC URL; the credentials are `NODE_USER` and
  `NODE_PASSWORD`, or the cookie file `NODE_COOKIE`, or the `.cookie` in `NODE_DATADIR`;
* otherwise `NODE_DATADIR` (default `.lune/demo/chain`, the node's own default) is read for the
  `node.json` and `.cookie` files a running node writes there.

Files are read again for every client, so a node restarted on another port or with a new cookie
is found without restarting the portal. Every failure to reach the node (not running, refused
credentials, timeout, a reply that is not JSON-RPC) is one exception, `NodeUnavailable`, which the
portal answers with 503. An error *reply* from a running node stays Core's `RPCError`
(code and message), and a REST error is `NodeRestError` (its HTTP status and message).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sandbox_chain.node.client import RPCClient, RPCConnectionError
from sandbox_chain.node.rpc import RPCError

DEFAULT_DATADIR = ".lune/demo/chain"
DEFAULT_TIMEOUT = 10.0
COOKIE_NAME = ".cookie"
NODE_INFO_NAME = "node.json"
MAX_REST_BODY = 16 * 1024 * 1024  # the largest REST reply read (a block page is far smaller)

__all__ = [
    "NodeClient",
    "NodeRestError",
    "NodeSettings",
    "NodeSettingsError",
    "NodeUnavailable",
    "RPCError",
]


class NodeUnavailable(Exception):
    """The sandbox node cannot be reached; the message says why and how to fix it."""


class NodeSettingsError(NodeUnavailable, ValueError):
    """A node setting has a value that cannot work; the message names the setting. It is a
    `NodeUnavailable` too, so a misconfigured node is a 503 wherever the node is used."""


class NodeRestError(Exception):
    """The node's REST API answered with an error status (400 bad input, 404 not found)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"HTTP {status}: {message}")


@dataclass(frozen=True)
class NodeSettings:
    """Where the node is and how to authenticate (see the module docstring)."""

    url: str | None = None
    user: str | None = None
    password: str | None = None
    cookie_file: Path | None = None
    datadir: Path = Path(DEFAULT_DATADIR)
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NodeSettings:
        """Settings from a configuration mapping (the portal's: `NODE_URL`, `NODE_DATADIR`, ...).

        Raises `NodeSettingsError` naming the setting for a timeout that is not a positive
        number or a URL that is not `http://host:port/`.
        """
        url = config.get("NODE_URL") or None
        if url is not None:
            parts = urlsplit(str(url))
            if parts.scheme != "http" or not parts.hostname:
                raise NodeSettingsError(f"NODE_URL must be an http://host:port/ URL, not {url!r}")
        cookie = config.get("NODE_COOKIE") or None
        try:
            timeout = float(config.get("NODE_TIMEOUT") or DEFAULT_TIMEOUT)
        except (TypeError, ValueError):
            raise NodeSettingsError("NODE_TIMEOUT must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise NodeSettingsError("NODE_TIMEOUT must be between 0 and 600 seconds")
        return cls(
            url=str(url) if url else None,
            user=config.get("NODE_USER") or None,
            password=config.get("NODE_PASSWORD") or None,
            cookie_file=Path(cookie) if cookie else None,
            datadir=Path(config.get("NODE_DATADIR") or DEFAULT_DATADIR),
            timeout=timeout,
        )

    def endpoint(self) -> tuple[str, str, str]:
        """(RPC URL, user, password) of the node now, or `NodeUnavailable` naming what lacks."""
        url = self.url
        if url is None:
            info_path = self.datadir / NODE_INFO_NAME
            try:
                url = str(json.loads(info_path.read_text())["rpc_url"])
            except (OSError, ValueError, KeyError, TypeError):
                raise NodeUnavailable(
                    f"no running node found in {self.datadir} (no readable {NODE_INFO_NAME}): "
                    f"start one with `lune chain node --datadir {self.datadir}`"
                ) from None
        if self.password is not None:
            return url, self.user or "", self.password
        cookie = self.cookie_file or self.datadir / COOKIE_NAME
        try:
            user, sep, password = cookie.read_text().strip().partition(":")
        except OSError as exc:
            raise NodeUnavailable(
                f"cannot read the node's cookie file {cookie}: {exc.strerror or exc}"
            ) from None
        if not sep:
            raise NodeUnavailable(f"the node's cookie file {cookie} is not user:password")
        return url, user, password


class NodeClient:
    """One conversation with the node: JSON-RPC calls and REST reads. Close it when done.

    Not shared between threads: make one per request (it is cheap: a file read or two and a
    loopback connection).
    """

    def __init__(self, settings: NodeSettings) -> None:
        self.settings = settings
        url, user, password = settings.endpoint()
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 18443
        self._rpc = RPCClient(url, user, password, timeout=settings.timeout)

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive RPC connection."""
        self._rpc.close()

    def call(self, method: str, *params: Any) -> Any:
        """One RPC call; amounts come back as `Decimal`. Raises `RPCError` for an error reply."""
        try:
            return self._rpc.call(method, *params)
        except RPCConnectionError as exc:
            raise NodeUnavailable(f"the sandbox node does not answer: {exc}") from None

    def batch(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Several RPC calls in one request; a failed call's place holds its `RPCError`."""
        if not calls:
            return []
        try:
            return self._rpc.batch(calls)
        except RPCConnectionError as exc:
            raise NodeUnavailable(f"the sandbox node does not answer: {exc}") from None

    def rest(self, path: str, **query: str | int) -> Any:
        """GET `/rest/<path>` (segments are URL-quoted by the caller via `segment`); JSON reply.

        Raises `NodeRestError` for a 4xx answer and `NodeUnavailable` when the node cannot be
        reached or does not answer JSON.
        """
        target = "/rest/" + path
        if query:
            target += "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.settings.timeout)
        try:
            conn.request("GET", target, headers={"Accept": "application/json"})
            resp = conn.getresponse()
            body = resp.read(MAX_REST_BODY + 1)
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            raise NodeUnavailable(
                f"the sandbox node does not answer: cannot reach {self.host}:{self.port}: {exc}"
            ) from None
        finally:
            conn.close()
        if len(body) > MAX_REST_BODY:
            raise NodeUnavailable(f"the node's answer to {target} is larger than we read")
        try:
            data = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise NodeUnavailable(
                f"the node answered {target} with HTTP {status}, not JSON"
            ) from None
        if status != 200:
            message = data.get("error") if isinstance(data, dict) else None
            if 400 <= status < 500:
                raise NodeRestError(status, str(message or f"HTTP {status}"))
            raise NodeUnavailable(f"the node answered {target} with HTTP {status}: {message}")
        return data


def segment(text: str) -> str:
    """One path segment for `NodeClient.rest`, quoted so that no `/`, `?` or `#` escapes it."""
    return quote(text, safe="")
