"""`lune demo`: set up the platform on embedded defaults.

For now it does the chain part for real: open (or create) a regtest chain in
`<datadir>/chain`, mine `blocks` blocks to the demo key when the chain is new, and print the
tip with the commands that inspect it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sandbox_chain.chainstate import Chain
from sandbox_chain.cli import demo_key
from sandbox_chain.encoding import hash_to_hex
from sandbox_chain.hashes import hash160
from sandbox_chain.miner import generate_to_script
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script


def run_demo(datadir: str, blocks: int = 10, echo: Callable[[str], None] = print) -> None:
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
    echo("Inspect it with:")
    echo(f"  lune chain info --datadir {chain_dir}")
    echo(f"  lune chain block {chain.height} --datadir {chain_dir}")
    echo(f"  lune chain balance --datadir {chain_dir}")
