"""`lune demo`: set up the platform on embedded defaults.

For now it does the chain part for real: open (or create) a regtest chain in
`<datadir>/chain`, mine `blocks` blocks to the demo key when the chain is new, print the
tip with the commands that inspect it, then start a node on that chain and print how to talk
to it. In a terminal the node serves until Ctrl-C; otherwise (CI, tests) it answers one call
and stops.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from sandbox_chain.chainstate import Chain
from sandbox_chain.encoding import hash_to_hex
from sandbox_chain.hashes import hash160
from sandbox_chain.keys import demo_key
from sandbox_chain.miner import generate_to_script
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script


def run_demo(
    datadir: str,
    blocks: int = 10,
    echo: Callable[[str], None] = print,
    serve: bool | None = None,
) -> None:
    """Create or reopen the demo chain, mine `blocks` blocks if it is new, show its tip."""
    chain_dir = Path(datadir) / "chain"
    with Chain.open(chain_dir, REGTEST) as chain:
        key = demo_key()
        if chain.height == 0:
            echo(f"Mining {blocks} regtest blocks into {chain_dir} ...")
            generate_to_script(chain, p2pkh_script(hash160(key.public_key().sec())), blocks)
        else:
            echo(f"Reopened the chain in {chain_dir}.")
        echo(f"tip:    {hash_to_hex(chain.tip)}")
        echo(f"height: {chain.height}")
        echo(f"demo address: {key.public_key().address('regtest')}")
    echo("The `lune` command is in .venv/bin: run `source .venv/bin/activate` first.")
    echo("Open the course (JupyterLab, on 127.0.0.1) with:")
    echo("  lune lab")
    echo("Inspect the chain with:")
    echo(f"  lune chain info --datadir {chain_dir}")
    echo(f"  lune chain block {chain.height} --datadir {chain_dir}")
    echo(f"  lune chain balance --datadir {chain_dir}")
    _run_node(chain_dir, echo, sys.stdin.isatty() if serve is None else serve)


def _run_node(chain_dir: Path, echo: Callable[[str], None], serve: bool) -> None:
    """Start a node on the demo chain and show a curl call; serve until Ctrl-C if asked."""
    from sandbox_chain.node.client import RPCClient
    from sandbox_chain.node.node import NodeConfig, curl_example, start_node

    # Serving: the default ports, so the docs' examples work; otherwise any free port.
    ports = {} if serve else {"rpcport": 0, "port": 0}
    node = start_node(NodeConfig(datadir=chain_dir, **ports))
    try:
        client = RPCClient.from_datadir(chain_dir)
        height = client.call("getblockcount")
        client.close()
        echo(f"Node running on {chain_dir} (height {height}): JSON-RPC and REST at")
        echo(f"  http://127.0.0.1:{node.rpc_service.port}/ (P2P port {node.p2p_service.port})")
        echo("Talk to it with:")
        echo(f"  {curl_example(node)}")
        echo(f"  curl -s http://127.0.0.1:{node.rpc_service.port}/rest/chaininfo")
        if serve:
            echo("Ctrl-C stops the node.")
            node.run_until_stopped()
    finally:
        node.stop()
