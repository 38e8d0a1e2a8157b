"""Control and utility RPCs as Bitcoin Core has them (`src/rpc/server.cpp`, `src/rpc/misc.cpp`):
help, stop, uptime, echo, validateaddress."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..address import decode_address
from ..errors import ChainError
from .rpc import Dispatcher, Param, RPCError

if TYPE_CHECKING:
    from .node import Node


def register(d: Dispatcher, node: Node) -> None:
    """Register the control methods."""

    def help_(command: str | None = None) -> str:
        if command is None:
            lines: list[str] = []
            for category in sorted({m.category for m in d.methods.values()}):
                lines.append(f"== {category.capitalize()} ==")
                lines += sorted(m.usage() for m in d.methods.values() if m.category == category)
                lines.append("")
            return "\n".join(lines).rstrip()
        method = d.methods.get(command)
        if method is None:
            return f"help: unknown command: {command}"
        return f"{method.usage()}\n\n{method.help}".rstrip()

    def stop() -> str:
        node.request_stop()
        return "Lune node stopping"

    def uptime() -> int:
        return int(time.time() - node.started_at)

    def echo(**kwargs: Any) -> list[Any]:
        # Core's echo returns its positional arguments: handy to test a client's encoding.
        values = [kwargs[f"arg{i}"] for i in range(10)]
        while values and values[-1] is None:
            values.pop()
        return values

    def validateaddress(address: str) -> dict[str, Any]:
        try:
            script = decode_address(address, node.params)
        except (ChainError, ValueError) as exc:
            return {"isvalid": False, "error_locations": [], "error": f"Invalid address: {exc}"}
        return {
            "isvalid": True,
            "address": address,
            "scriptPubKey": script.hex(),
            "isscript": False,
            "iswitness": False,
        }

    d.register("help", help_, [Param("command", "str", False)], "List commands, or explain one.")
    d.register("stop", stop, help="Stop the node cleanly.")
    d.register("uptime", uptime, help="Seconds since the node started.")
    echo_params = [Param(f"arg{i}", "num|str|bool|obj|arr", False) for i in range(10)]
    d.register("echo", echo, echo_params, "Return the arguments (for testing clients).")
    d.register(
        "validateaddress",
        validateaddress,
        [Param("address", "str")],
        "Whether an address is valid on this network, and its scriptPubKey.",
        category="util",
    )


__all__ = ["register", "RPCError"]
