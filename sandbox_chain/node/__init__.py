"""The sandbox node: the chain library behind Bitcoin Core–style JSON-RPC, REST and P2P.

Modules: `rpc` (JSON-RPC dispatch and errors), `server` (HTTP layer), `app` (RPC port routing),
`rpc_*` (the methods), `rest` (read-only REST API, described in `sandbox_chain/openapi.yaml`),
`p2p` (peer sync over HTTP), `node` (process life cycle), `faucet`, `devnet` (several nodes on
loopback), `client` (a small RPC client), `cli` (the `lune chain` commands).
"""
