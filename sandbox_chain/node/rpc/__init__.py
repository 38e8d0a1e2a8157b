"""The node's JSON-RPC methods, one module per area as in Bitcoin Core's `src/rpc/`.

`dispatch` is the protocol (requests, batches, parameters, error codes; re-exported here);
`blockchain`, `rawtransaction`, `mining`, `net` and `control` hold the methods as module-level
functions taking the node's context first, so each can be imported and called on its own::

    from sandbox_chain.node.rpc.blockchain import getblock

`util` holds the argument parsers they share (Core's `rpc/util.cpp`). `node.app` registers
every module's `COMMANDS` on one `Dispatcher`.
"""

from .dispatch import (
    RPC_CLIENT_INVALID_IP_OR_SUBNET,
    RPC_CLIENT_NODE_ALREADY_ADDED,
    RPC_CLIENT_NODE_NOT_ADDED,
    RPC_CLIENT_NODE_NOT_CONNECTED,
    RPC_CLIENT_P2P_DISABLED,
    RPC_DATABASE_ERROR,
    RPC_DESERIALIZATION_ERROR,
    RPC_FORBIDDEN,
    RPC_IN_WARMUP,
    RPC_INTERNAL_ERROR,
    RPC_INVALID_ADDRESS_OR_KEY,
    RPC_INVALID_PARAMETER,
    RPC_INVALID_PARAMS,
    RPC_INVALID_REQUEST,
    RPC_METHOD_NOT_FOUND,
    RPC_MISC_ERROR,
    RPC_OUT_OF_MEMORY,
    RPC_PARSE_ERROR,
    RPC_TYPE_ERROR,
    RPC_VERIFY_ALREADY_IN_CHAIN,
    RPC_VERIFY_ERROR,
    RPC_VERIFY_REJECTED,
    RPC_WALLET_INSUFFICIENT_FUNDS,
    Command,
    Dispatcher,
    Method,
    Param,
    RPCError,
    bind_params,
    encode_json,
    loads_strict,
)

__all__ = [
    "RPC_CLIENT_INVALID_IP_OR_SUBNET",
    "RPC_CLIENT_NODE_ALREADY_ADDED",
    "RPC_CLIENT_NODE_NOT_ADDED",
    "RPC_CLIENT_NODE_NOT_CONNECTED",
    "RPC_CLIENT_P2P_DISABLED",
    "RPC_DATABASE_ERROR",
    "RPC_DESERIALIZATION_ERROR",
    "RPC_FORBIDDEN",
    "RPC_IN_WARMUP",
    "RPC_INTERNAL_ERROR",
    "RPC_INVALID_ADDRESS_OR_KEY",
    "RPC_INVALID_PARAMETER",
    "RPC_INVALID_PARAMS",
    "RPC_INVALID_REQUEST",
    "RPC_METHOD_NOT_FOUND",
    "RPC_MISC_ERROR",
    "RPC_OUT_OF_MEMORY",
    "RPC_PARSE_ERROR",
    "RPC_TYPE_ERROR",
    "RPC_VERIFY_ALREADY_IN_CHAIN",
    "RPC_VERIFY_ERROR",
    "RPC_VERIFY_REJECTED",
    "RPC_WALLET_INSUFFICIENT_FUNDS",
    "Command",
    "Dispatcher",
    "Method",
    "Param",
    "RPCError",
    "bind_params",
    "encode_json",
    "loads_strict",
]
