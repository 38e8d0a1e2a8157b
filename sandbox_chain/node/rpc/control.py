"""Control and utility RPCs as Bitcoin Core has them (`src/rpc/server.cpp`, `src/rpc/misc.cpp`):
stop, uptime, echo, validateaddress. `help` is the dispatcher's own (`Dispatcher.help`), as in
Core, where it reads the RPC table.

Each method is a module-level function taking the node's context first; `COMMANDS` lists them
with their parameters for the dispatcher."""

from __future__ import annotations

import time
from typing import Any

from ...address import decode_address
from ...errors import ChainError
from ..context import NodeContext
from .dispatch import Command, Param


def stop(ctx: NodeContext) -> str:
    """Stop the node cleanly."""
    ctx.request_stop()
    return "Lune node stopping"


def uptime(ctx: NodeContext) -> int:
    """Seconds since the node started."""
    return int(time.time() - ctx.started_at)


def echo(ctx: NodeContext, **kwargs: Any) -> list[Any]:
    """Return the arguments (for testing clients)."""
    # Core's echo returns its positional arguments: handy to test a client's encoding.
    values = [kwargs[f"arg{i}"] for i in range(10)]
    while values and values[-1] is None:
        values.pop()
    return values


def validateaddress(ctx: NodeContext, address: str) -> dict[str, Any]:
    """Whether an address is valid on this network, and its scriptPubKey."""
    try:
        script = decode_address(address, ctx.params)
    except (ChainError, ValueError) as exc:
        return {"isvalid": False, "error_locations": [], "error": f"Invalid address: {exc}"}
    return {
        "isvalid": True,
        "address": address,
        "scriptPubKey": script.hex(),
        "isscript": False,
        "iswitness": False,
    }


HELP_PARAMS = (Param("command", "str", False),)
HELP_TEXT = "List commands, or explain one."

COMMANDS = [
    Command("stop", stop),
    Command("uptime", uptime),
    Command(
        "echo", echo, tuple(Param(f"arg{i}", "num|str|bool|obj|arr", False) for i in range(10))
    ),
    Command("validateaddress", validateaddress, (Param("address", "str"),), category="util"),
]
