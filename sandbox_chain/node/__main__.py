"""`python -m sandbox_chain.node --datadir DIR ...`: the same as `lune chain node`."""

from .cli import node_command

if __name__ == "__main__":  # pragma: no cover
    node_command(prog_name="python -m sandbox_chain.node")
