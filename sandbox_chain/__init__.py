"""sandbox_chain — a minimal, Bitcoin-compatible proof-of-work chain for teaching.

Everything this package implements is byte-compatible with Bitcoin: real Bitcoin blocks,
transactions, keys and addresses parse and validate with it. It is a library first (pure
functions and dataclasses, no sockets); the node and the CLI sit on top.

The package imports nothing else of Lune Academy, so a learner's notebook can use it alone.
"""

__version__ = "0.1.0"
