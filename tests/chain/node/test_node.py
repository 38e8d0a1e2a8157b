"""The in-process `Node`: what it announces to its peers when blocks and transactions arrive."""

from __future__ import annotations

import time

import pytest

from sandbox_chain.chainstate import Chain
from sandbox_chain.keys import PrivateKey
from sandbox_chain.miner import generate_to_script
from sandbox_chain.node.node import Node, NodeConfig
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script
from sandbox_chain.sighash import sign_p2pkh_input
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut

pytestmark = pytest.mark.network

KEY = PrivateKey.from_int(0xFACE)
SCRIPT = p2pkh_script(KEY.public_key().hash160())
OTHER = p2pkh_script(PrivateKey.from_int(0xBEEF).public_key().hash160())


def test_transactions_of_a_reorged_block_are_announced_again(tmp_path):
    node = Node(NodeConfig(datadir=tmp_path / "node", rpcport=0, port=0))
    node.start()
    fork = Chain.open(tmp_path / "fork", REGTEST)
    try:
        generate_to_script(fork, SCRIPT, 101)
        for height in range(1, 102):
            node.submit_block(fork.get_block(fork.get_block_hash(height)))
        coinbase = fork.get_block(fork.get_block_hash(1)).txs[0]
        tx = Transaction(2, [TxIn(OutPoint(coinbase.txid(), 0), b"")], [TxOut(10**9, SCRIPT)], 0)
        sign_p2pkh_input(tx, 0, KEY, SCRIPT)
        node.accept_tx(tx)
        node.chain_call(lambda c: generate_to_script(c, SCRIPT, 1))  # confirms tx on the node
        assert tx.txid() not in node.chain_call(lambda c: c.mempool.snapshot())

        announced: list[bytes] = []
        node.on_tx.append(lambda txid, source: announced.append(txid))
        branch = generate_to_script(fork, OTHER, 2)  # heavier, without tx
        for h in branch:
            node.submit_block(fork.get_block(h), source="127.0.0.1:1")
        assert node.chain_call(lambda c: c.tip) == branch[-1]
        assert tx.txid() in node.chain_call(lambda c: c.mempool.snapshot())
        assert announced == [tx.txid()]
    finally:
        fork.close()
        node.stop()


def test_a_new_ban_forgets_the_expired_ones():
    # The ban list is keyed by what peers send (their port): it must not only grow.
    from types import SimpleNamespace

    from sandbox_chain.node import p2p

    peers = p2p.PeerManager(SimpleNamespace(on_block=[], on_tx=[]))  # type: ignore[arg-type]
    expired = time.time() - 1
    peers.banned.update({f"127.0.0.1:{port}": expired for port in range(1, 51)})
    peers.misbehaving("127.0.0.1:99", p2p.BAN_SCORE, "test")
    assert list(peers.banned) == ["127.0.0.1:99"]


def _spend(coinbase: Transaction, value: int) -> Transaction:
    tx = Transaction(2, [TxIn(OutPoint(coinbase.txid(), 0), b"")], [TxOut(value, OTHER)], 0)
    sign_p2pkh_input(tx, 0, KEY, SCRIPT)
    return tx


def test_a_restart_reloads_the_whole_mempool_from_one_store(tmp_path, caplog):
    # The pool is kept in one place (the chain database, written in one transaction at a
    # clean stop), so a restart brings back every transaction and says so.
    config = NodeConfig(datadir=tmp_path / "node", rpcport=0, port=0)
    node = Node(config)
    node.start()
    try:
        node.chain_call(lambda c: generate_to_script(c, SCRIPT, 102))
        coinbases = node.chain_call(
            lambda c: [c.get_block(c.get_block_hash(h)).txs[0] for h in (1, 2)]
        )
        txids = {node.accept_tx(_spend(cb, 10**9)) for cb in coinbases}
    finally:
        node.stop()
    assert sorted(p.name for p in config.datadir.iterdir() if "mempool" in p.name) == []
    caplog.set_level("INFO", logger="sandbox_chain.node.node")
    again = Node(config)
    again.start()
    try:
        assert set(again.chain_call(lambda c: c.mempool.txids())) == txids
    finally:
        again.stop()
    assert "reloaded 2 mempool transactions" in caplog.text


class _ThreadRecordingChain:
    """A real `Chain` that notes which thread touches it (the node's one-writer rule)."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain
        self.threads: set[str] = set()

    def __getattr__(self, name: str):
        import threading

        self.threads.add(threading.current_thread().name)
        return getattr(self._chain, name)


def test_mining_touches_the_chain_only_on_the_chain_thread(tmp_path):
    from sandbox_chain.node import mining

    node = Node(NodeConfig(datadir=tmp_path / "node", rpcport=0, port=0))
    node.start()
    try:
        recording = _ThreadRecordingChain(node.chain)
        node.chain = recording  # type: ignore[assignment]
        block = mining.mine_one(node, SCRIPT)
        assert node.chain_call(lambda c: c.tip) == block.hash()
        assert recording.threads and all(t.startswith("chain") for t in recording.threads), (
            recording.threads
        )
    finally:
        node.chain = recording._chain
        node.stop()
