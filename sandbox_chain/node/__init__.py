"""The sandbox node: the chain library behind Bitcoin Core–style JSON-RPC, REST and P2P.

Modules: `config` (`NodeConfig`, file names, user agent), `chainaccess` (the chain thread's
interface, `ChainAccess`), `context` (`NodeContext`, what request handlers may use of a node),
`rpc/` (the JSON-RPC protocol in `rpc.dispatch`, the methods one module per area), `mining`
(mining in a running node), `server` (HTTP layer), `app` (RPC port routing), `rest` (read-only
REST API, described in `sandbox_chain/openapi.yaml`), `p2p` and `p2p_app` (peer sync over
HTTP), `faucet`, `node` (the process life cycle: `Node` implements `NodeContext`), `devnet`
(several nodes on loopback), `client` (a small RPC client), `cli` (the `lune chain` commands).
"""
