"""The miner's nonce search when a nonce range runs out: the extranonce is bumped."""

from __future__ import annotations

from sandbox_chain import miner
from sandbox_chain.validation import bip34_height_script

SPK = b"\x51"


def test_an_exhausted_nonce_range_bumps_the_extranonce(chain, monkeypatch):
    # One nonce per try: on regtest about half the headers fail, so the search must move to
    # a new coinbase (extranonce) and Merkle root, and keep the BIP34 height in front.
    monkeypatch.setattr(miner, "NONCE_TRIES", 1)
    bumped = 0
    for _ in range(40):  # each block needs a bump with probability 1/2
        height = chain.height + 1
        block = miner.solve_template(miner.create_block_template(chain, SPK), chain.params)
        script_sig = block.txs[0].vin[0].script_sig
        assert script_sig[: -(miner.EXTRANONCE_SIZE + 1)] == bip34_height_script(height)
        assert chain.submit_block(block) == "accepted"
        bumped += script_sig[-miner.EXTRANONCE_SIZE :] != bytes(miner.EXTRANONCE_SIZE)
        if bumped >= 3:
            break
    assert bumped >= 3
