"""Mining inside a running node: a template on the chain thread, the nonce search outside it.

Mining on regtest is instant; on the classroom network a block takes seconds. The nonce search
(`miner.solve_template`) needs only the template and the network's parameters, so it runs on
the calling thread (an RPC thread, or the faucet refilling itself) while the node keeps
answering; building the template and submitting the block run on the chain thread, and nothing
else here touches the chain (`chainaccess`: one thread uses it).
"""

from __future__ import annotations

from ..block import Block
from ..errors import ValidationError
from ..miner import create_block_template, solve_template
from ..transaction import Transaction
from .chainaccess import ChainAccess
from .rpc.dispatch import RPC_MISC_ERROR, RPC_VERIFY_ERROR, RPCError

MAX_ATTEMPTS = 10  # templates tried when peers' blocks keep moving the tip


def block_template(ctx: ChainAccess, script: bytes, txs: list[Transaction] | None = None) -> Block:
    """An unsolved block on the current tip paying `script` (mempool or exactly `txs`)."""
    return ctx.chain_call(lambda c: create_block_template(c, script, extra_txs=txs))


def mine_one(ctx: ChainAccess, script: bytes, txs: list[Transaction] | None = None) -> Block:
    """Build a template on the chain thread, solve it here, submit it; retry if the tip moved.

    Raises `RPCError` as Core's generate* RPCs answer: -1 when the node is stopping or the tip
    keeps moving, -25 when the block is invalid (`TestBlockValidity failed`).
    """
    for _ in range(MAX_ATTEMPTS):
        template = block_template(ctx, script, txs)
        tip = template.header.prev_hash
        block = solve_template(template, ctx.params)
        if ctx.stop_event.is_set():
            raise RPCError(RPC_MISC_ERROR, "node is shutting down")
        try:
            ctx.submit_block(block)
        except ValidationError as err:
            if ctx.chain_call(lambda c: c.tip) != tip:
                continue  # a peer's block arrived meanwhile: mine on the new tip
            raise RPCError(RPC_VERIFY_ERROR, f"TestBlockValidity failed: {err.reason}") from None
        if ctx.chain_call(lambda c: c.tip) == block.hash():
            return block
    raise RPCError(RPC_MISC_ERROR, "could not mine on a moving tip")
