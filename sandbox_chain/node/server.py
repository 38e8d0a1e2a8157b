"""The node's HTTP layer: one small threaded HTTP/1.1 server shared by the RPC, REST and P2P ports.

Standard library only (`http.server.ThreadingHTTPServer`). Each port gets an *app*: an object
with `handle(request) -> Response`. This module deals with what every app needs and what a
hostile client can abuse:

* bodies need a `Content-Length` (411 otherwise) and are capped (413 above `max_body`);
* slow clients time out (`timeout` seconds per read), so a half-sent request cannot pin a thread;
* HTTP Basic authentication against a set of accepted credentials, answered like Core
  (`401` + `WWW-Authenticate: Basic realm="jsonrpc"`, after a short pause that slows guessing);
* an app that raises is answered with a JSON 4xx, never a 500, and the server keeps serving.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a 4 MB block in hex fits, a memory bomb does not
AUTH_FAIL_DELAY = 0.25  # Core sleeps 250 ms after a wrong password


@dataclass
class Request:
    """What an app sees of one HTTP request."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]
    authorized: bool  # the request carried valid credentials (apps decide if they need it)


@dataclass
class Response:
    """What an app answers: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, value: Any) -> Response:
    """A JSON response body (compact, UTF-8, no NaN)."""
    from .jsonfmt import dumps

    return Response(status, (dumps(value) + "\n").encode())


def error_response(status: int, message: str) -> Response:
    """A JSON error body: `{"error": message}`."""
    return json_response(status, {"error": message})


class App(Protocol):
    """An HTTP application mounted on one port."""

    def handle(self, request: Request) -> Response:
        """Answer one request; raising is answered with a JSON 400 by the server."""
        ...


def basic_auth_ok(header: str | None, credentials: list[tuple[str, str]]) -> bool:
    """True if an `Authorization: Basic ...` header matches one of the accepted user/passwords.

    Compared in constant time (hmac.compare_digest) so the time taken leaks nothing.
    """
    if not header or not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    user, sep, password = decoded.partition(":")
    if not sep:
        return False
    ok = False
    for u, p in credentials:
        # Evaluate both comparisons for every pair: no early exit to time.
        match_u = hmac.compare_digest(user.encode(), u.encode())
        match_p = hmac.compare_digest(password.encode(), p.encode())
        ok |= match_u and match_p
    return ok


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Core clients reuse one connection
    disable_nagle_algorithm = True
    server: HTTPService
    server_version = "lune-node"
    sys_version = ""

    def setup(self) -> None:
        # StreamRequestHandler.setup reads self.timeout; typeshed declares it a ClassVar, but
        # the timeout is the server's (per instance), so it is set on the handler instance.
        self.timeout = self.server.read_timeout  # type: ignore[misc]
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, resp: Response, close: bool = False) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        # Headers and body in one write: two small writes meet the client's delayed ACK
        # (Nagle) and cost ~40 ms per request.
        # `_headers_buffer` is BaseHTTPRequestHandler's own list of pending header lines (not
        # in typeshed): appending the body there sends headers and body in one write.
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        if self.command != "HEAD":
            self._headers_buffer.append(resp.body)  # type: ignore[attr-defined]
        self.flush_headers()

    def _read_body(self) -> bytes | None:
        """Read the body within limits; on a problem send the error and return None."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send(error_response(411, "chunked bodies are not accepted"), close=True)
            return None
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if self.command in ("POST", "PUT"):
                self._send(error_response(411, "Content-Length required"), close=True)
                return None
            return b""
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self._send(error_response(400, "bad Content-Length"), close=True)
            return None
        if length > self.server.max_body:
            self._send(error_response(413, f"body larger than {self.server.max_body} bytes"), True)
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            return None
        return body

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        srv = self.server
        authorized = basic_auth_ok(self.headers.get("Authorization"), srv.credentials())
        request = Request(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client=self.client_address[:2],
            authorized=authorized,
        )
        try:
            resp = srv.app.handle(request)
        except Exception as exc:  # a bug must not become a 500 or kill the thread
            log.exception("unhandled error in %s %s", self.command, self.path)
            resp = error_response(400, f"request failed: {type(exc).__name__}")
        if resp.status == 401:
            time.sleep(AUTH_FAIL_DELAY)
            resp.headers.setdefault("WWW-Authenticate", 'Basic realm="jsonrpc"')
        self._send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib answers malformed request lines with an HTML page; answer JSON, never 5xx.
        code = code if code < 500 else 400
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # An unparseable request line leaves HTTP/0.9 (no status line); answer in HTTP/1.0.
            self.request_version = "HTTP/1.0"
        if not hasattr(self, "command"):
            self.command = ""
        self._send(error_response(code, message or "bad request"), close=True)


class HTTPService(ThreadingHTTPServer):
    """A threaded HTTP server for one app; `start()` serves it from a background thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    max_connections = 64  # one thread each; more at once are turned away with 429

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        credentials: Callable[[], list[tuple[str, str]]] = list,
        max_body: int = DEFAULT_MAX_BODY,
        read_timeout: float = 15.0,
        name: str = "http",
    ) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.credentials = credentials
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.name = name
        self._thread: threading.Thread | None = None
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a connection on its own thread, unless all slots are taken (then 429)."""
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(
                    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 30\r\nConnection: close\r\n\r\n"
                    b'{"error":"too many requests"}\n'
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """The stdlib's per-connection thread body, releasing the slot at the end."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def port(self) -> int:
        """The port actually bound (useful when asked for port 0)."""
        return self.server_address[1]

    def start(self) -> None:
        """Serve in a daemon thread until `stop()`."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, wait for the serving loop to end and close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()
