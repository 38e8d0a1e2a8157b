"""Argument parsing shared by the RPC methods (Bitcoin Core's `src/rpc/util.cpp`)."""

from __future__ import annotations

import re
from typing import Any

from ...address import decode_address
from ...encoding import hex_to_hash
from ...errors import ChainError
from .dispatch import RPC_INVALID_ADDRESS_OR_KEY, RPC_INVALID_PARAMETER, RPCError

_HEX = re.compile(r"^[0-9a-fA-F]*$")


def parse_hash(value: str, name: str) -> bytes:
    """Core's `ParseHashV`: 64 hex characters, else RPC_INVALID_PARAMETER with Core's message."""
    if not _HEX.match(value):
        raise RPCError(RPC_INVALID_PARAMETER, f"{name} must be hexadecimal string (not '{value}')")
    if len(value) != 64:
        raise RPCError(
            RPC_INVALID_PARAMETER, f"{name} must be of length 64 (not {len(value)}, for '{value}')"
        )
    return hex_to_hash(value)


def parse_verbosity(value: Any, default: int) -> int:
    """Core's `ParseVerbosity`: a number, or true/false meaning 1/0."""
    if value is None:
        return default
    if isinstance(value, bool):
        return int(value)
    return int(value)


def output_script(address: str, params: Any) -> bytes:
    """An address (or "raw(HEX)" descriptor) as a scriptPubKey; -5 otherwise, as Core."""
    if address.startswith("raw(") and address.endswith(")"):
        try:
            return bytes.fromhex(address[4:-1])
        except ValueError:
            pass
    try:
        return decode_address(address, params)
    except (ChainError, ValueError):
        raise RPCError(RPC_INVALID_ADDRESS_OR_KEY, "Error: Invalid address") from None
