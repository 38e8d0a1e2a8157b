"""JSON-RPC dispatch in Bitcoin Core's dialect: requests, batches, parameters and error objects.

Follows Bitcoin Core `src/rpc/server.cpp`, `src/rpc/request.cpp` and `src/httprpc.cpp`:

* a request is `{"method": ..., "params": [...] | {...}, "id": ...}`; every reply carries
  `result`, `error` (one of them null) and `id`, plus `"jsonrpc": "2.0"` when the request had it;
  a JSON-RPC 2.0 request without an `id` is a notification and gets no reply (HTTP 204);
* a batch is a JSON array of requests and gets an array of replies in the same order;
* errors carry Core's codes (`RPC_*` below) and messages.

Deviations from Core, on purpose: since v28 Core omits the null member of 2.0 replies; we keep
both, as Core did before, because Core clients (python-bitcoinrpc's batch) index both. Core
answers legacy 1.0 errors with HTTP 500 (404 for an unknown method). Our servers never answer
500, so every JSON-RPC error is HTTP 200 with the error object, as JSON-RPC 2.0 prescribes; only
an unparseable body is HTTP 400. Clients written for Core (python-bitcoinrpc, bitcoin-cli) read
the error object either way.

This module knows nothing about HTTP or the chain: `Dispatcher.handle(body)` maps bytes to a
reply, and each method is a plain function registered with its parameter list. The node's
methods are module-level functions taking the node's context first (`getblock(ctx, blockhash,
verbosity)`), listed with their parameters as `Command`s, the way Core's RPC tables
(`RegisterBlockchainRPCCommands`) list theirs; `Dispatcher.add` binds them to one context.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Standard JSON-RPC 2.0 errors
RPC_INVALID_REQUEST = -32600
RPC_METHOD_NOT_FOUND = -32601
RPC_INVALID_PARAMS = -32602
RPC_INTERNAL_ERROR = -32603
RPC_PARSE_ERROR = -32700
# Bitcoin Core's general application errors (src/rpc/protocol.h)
RPC_MISC_ERROR = -1
RPC_TYPE_ERROR = -3
RPC_WALLET_INSUFFICIENT_FUNDS = -6
RPC_INVALID_ADDRESS_OR_KEY = -5
RPC_OUT_OF_MEMORY = -7
RPC_INVALID_PARAMETER = -8
RPC_DATABASE_ERROR = -20
RPC_DESERIALIZATION_ERROR = -22
RPC_VERIFY_ERROR = -25
RPC_VERIFY_REJECTED = -26
RPC_VERIFY_ALREADY_IN_CHAIN = -27
RPC_IN_WARMUP = -28
RPC_CLIENT_NODE_ALREADY_ADDED = -23
RPC_CLIENT_NODE_NOT_ADDED = -24
RPC_CLIENT_NODE_NOT_CONNECTED = -29
RPC_CLIENT_INVALID_IP_OR_SUBNET = -30
RPC_CLIENT_P2P_DISABLED = -9
RPC_FORBIDDEN = -34  # our own: used by the faucet's rate limit (Core has no such method)


class RPCError(Exception):
    """An error reply: Core's `JSONRPCError(code, message)`."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def to_json(self) -> dict[str, Any]:
        """The error object as it appears in the reply."""
        return {"code": self.code, "message": self.message}


# Parameter types, named as Core's RPCArg::Type. Each maps to a JSON type check.
_TYPE_NAMES = {
    "num": "number",
    "str": "string",
    "bool": "bool",
    "obj": "object",
    "arr": "array",
    "amount": "number",
    "hex": "string",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


@dataclass(frozen=True)
class Param:
    """One parameter of an RPC method.

    `kind` is one of num/str/bool/obj/arr/amount/hex, or several joined by "|" (Core accepts
    `true`/`false` or a number for some verbosity flags). `required` parameters must be given
    positionally or by name; optional ones default to `default`. `name` may list aliases
    joined by "|" as Core does ("verbosity|verbose"): any of them names the argument, and the
    first is the keyword the method function receives.
    """

    name: str
    kind: str
    required: bool = True
    default: Any = None
    help: str = ""

    @property
    def key(self) -> str:
        """The parameter's main name (the first alias)."""
        return self.name.split("|", 1)[0]


@dataclass
class Method:
    """A registered RPC method: its function, parameters and one-line help."""

    name: str
    func: Callable[..., Any]
    params: list[Param] = field(default_factory=list)
    help: str = ""
    category: str = "control"

    def usage(self) -> str:
        """The first line of Core's help text: the method and its argument names."""
        args = " ".join(p.key if p.required else f"( {p.key} )" for p in self.params)
        return f"{self.name} {args}".rstrip()


@dataclass(frozen=True)
class Command:
    """An RPC method as its module declares it: `func(ctx, **params)`, before a context is bound.

    `help` defaults to the function's docstring.
    """

    name: str
    func: Callable[..., Any]
    params: tuple[Param, ...] = ()
    help: str = ""
    category: str = "control"


def _check_type(method: Method, param: Param, value: Any) -> Any:
    allowed = param.kind.split("|")
    actual = _json_type(value)
    for kind in allowed:
        expected = _TYPE_NAMES[kind]
        if actual != expected:
            continue
        if kind == "num" and isinstance(value, float):
            if not value.is_integer():
                raise RPCError(
                    RPC_TYPE_ERROR, f"JSON number {value} for {param.name} is not an integer"
                )
            return int(value)
        return value
    wanted = " or ".join(_TYPE_NAMES[k] for k in allowed)
    raise RPCError(
        RPC_TYPE_ERROR,
        f"JSON value of type {actual} for field {param.name} is not of expected type {wanted}",
    )


def bind_params(method: Method, params: Any) -> dict[str, Any]:
    """Match positional (list) or named (object) params to the method's declared parameters.

    Errors follow Core: too many or missing required arguments give the usage text with
    RPC_MISC_ERROR (Core throws its help text), an unknown name is RPC_INVALID_PARAMETER,
    and a wrong JSON type is RPC_TYPE_ERROR.
    """
    declared = method.params
    values: dict[str, Any] = {}
    if params is None:
        params = []
    if isinstance(params, list):
        if len(params) > len(declared):
            raise RPCError(RPC_MISC_ERROR, f"too many arguments; usage: {method.usage()}")
        for p, v in zip(declared, params, strict=False):
            values[p.key] = v
    elif isinstance(params, dict):
        unused = dict(params)
        for p in declared:
            # The first alias given wins; another one given too stays unused (Core's
            # transformNamedArguments).
            alias = next((a for a in p.name.split("|") if a in unused), None)
            if alias is not None:
                values[p.key] = unused.pop(alias)
        if unused:
            raise RPCError(RPC_INVALID_PARAMETER, f"Unknown named parameter {next(iter(unused))}")
    else:
        raise RPCError(RPC_INVALID_REQUEST, "Params must be an array or object")
    bound: dict[str, Any] = {}
    for p in declared:
        v = values.get(p.key)
        if v is None:  # null means "not given", as in Core
            if p.required:
                raise RPCError(RPC_MISC_ERROR, f"missing argument {p.key}; usage: {method.usage()}")
            bound[p.key] = p.default
        else:
            bound[p.key] = _check_type(method, p, v)
    return bound


class Dispatcher:
    """A table of RPC methods and the request/batch/reply logic around it."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def register(
        self,
        name: str,
        func: Callable[..., Any],
        params: list[Param] | None = None,
        help: str = "",
        category: str = "control",
    ) -> None:
        """Add a method; `func` is called with the bound parameters as keyword arguments.

        `help` defaults to the function's docstring: what `help <method>` shows after usage.
        """
        text = help or inspect.getdoc(func) or ""
        self.methods[name] = Method(name, func, list(params or []), text, category)

    def add(self, commands: list[Command], ctx: Any) -> None:
        """Register `commands`, each called with `ctx` (the node's context) as first argument."""
        for c in commands:
            help_text = c.help or inspect.getdoc(c.func) or ""
            self.register(
                c.name, functools.partial(c.func, ctx), list(c.params), help_text, c.category
            )

    def help(self, command: str | None = None) -> str:
        """Core's `help`: every method by category, or one method's usage and help text."""
        if command is None:
            lines: list[str] = []
            for category in sorted({m.category for m in self.methods.values()}):
                lines.append(f"== {category.capitalize()} ==")
                lines += sorted(m.usage() for m in self.methods.values() if m.category == category)
                lines.append("")
            return "\n".join(lines).rstrip()
        method = self.methods.get(command)
        if method is None:
            return f"help: unknown command: {command}"
        return f"{method.usage()}\n\n{method.help}".rstrip()

    def call(self, name: str, params: Any = None) -> Any:
        """Call one method by name, raising `RPCError` like a remote call would."""
        method = self.methods.get(name)
        if method is None:
            raise RPCError(RPC_METHOD_NOT_FOUND, "Method not found")
        return method.func(**bind_params(method, params))

    def _one(self, request: Any) -> dict[str, Any] | None:
        """Reply to one request object; None for a JSON-RPC 2.0 notification (no id)."""
        if not isinstance(request, dict):
            return _reply(None, None, RPCError(RPC_INVALID_REQUEST, "Invalid Request object"), True)
        version2 = request.get("jsonrpc") == "2.0"
        req_id = request.get("id")
        notification = version2 and "id" not in request
        method = request.get("method")
        try:
            if "jsonrpc" in request and request["jsonrpc"] not in ("1.0", "2.0"):
                raise RPCError(RPC_INVALID_REQUEST, "JSON-RPC version not supported")
            if method is None:
                raise RPCError(RPC_INVALID_REQUEST, "Missing method")
            if not isinstance(method, str):
                raise RPCError(RPC_INVALID_REQUEST, "Method must be a string")
            result = self.call(method, request.get("params"))
            reply = _reply(req_id, result, None, version2)
        except RPCError as err:
            reply = _reply(req_id, None, err, version2)
        except RecursionError:
            reply = _reply(
                req_id, None, RPCError(RPC_INVALID_REQUEST, "Request too deep"), version2
            )
        except Exception as exc:  # a bug in one method must not take the server down
            log.exception("RPC method %r failed", method)
            failure = RPCError(RPC_MISC_ERROR, f"internal error: {type(exc).__name__}: {exc}")
            reply = _reply(req_id, None, failure, version2)
        return None if notification else reply

    def handle(self, body: bytes) -> tuple[int, bytes | None]:
        """Turn a request body into (HTTP status, reply body). Never raises for bad input.

        Returns (204, None) when every request was a JSON-RPC 2.0 notification.
        """
        try:
            request = loads_strict(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            err = RPCError(RPC_PARSE_ERROR, "Parse error")
            return 400, encode_json(_reply(None, None, err, False))
        if isinstance(request, list):
            if not request:
                err = RPCError(RPC_INVALID_REQUEST, "Invalid Request object: empty batch")
                return 200, encode_json(_reply(None, None, err, True))
            replies = [r for r in (self._one(item) for item in request) if r is not None]
            if not replies:
                return 204, None
            return 200, encode_json(replies)
        if isinstance(request, dict):
            reply = self._one(request)
            if reply is None:
                return 204, None
            return 200, encode_json(reply)
        err = RPCError(RPC_PARSE_ERROR, "Top-level object parse error")
        return 400, encode_json(_reply(None, None, err, False))


def _reply(req_id: Any, result: Any, error: RPCError | None, version2: bool) -> dict[str, Any]:
    # Both members are always present, one of them null, as Bitcoin Core did up to v27:
    # JSON-RPC 2.0 says the other MUST be absent, but clients written for Core (e.g.
    # python-bitcoinrpc's batch call) read `reply["error"]` unconditionally.
    reply: dict[str, Any] = {"jsonrpc": "2.0"} if version2 else {}
    reply["result"] = result
    reply["error"] = None if error is None else error.to_json()
    reply["id"] = req_id
    return reply


def encode_json(value: Any) -> bytes:
    """Serialize a reply. NaN/Infinity never leave the node (they are not JSON)."""
    from ..jsonfmt import dumps

    return (dumps(value) + "\n").encode()


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_strict(body: bytes) -> Any:
    """Parse a JSON body as RFC 8259 says: UTF-8, no NaN/Infinity, no out-of-range numbers."""
    return json.loads(body.decode("utf-8"), parse_float=_finite_float, parse_constant=_no_constants)
