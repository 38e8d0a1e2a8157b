"""Node throughput: sustained `sendrawtransaction` + relay on a 3-node loopback devnet, against
the library's raw validation rate of the same transactions in the same run.

1. A 3-node devnet (separate processes, full mesh). Node 0 mines coins to a key and fans them
   out into N independent P2PKH coins (one confirmed block).
2. N signed 1-in-1-out transactions are prepared (signing is not timed).
3. Baseline: the same N transactions accepted by an in-process `Chain.accept_to_mempool` on a
   copy of the same chain (consensus + policy + script checks, no HTTP); best of three rounds,
   signature cache emptied before each.
4. Node: the N transactions sent with `sendrawtransaction` to node 0 over HTTP (two client
   threads, keep-alive), timing (a) node 0's acceptance and (b) the moment all three mempools
   hold all N (relay: inv, then getdata by each peer).
5. Block relay: node 0 mines a block with the N transactions; time until nodes 1 and 2 have it
   as tip. Then N more transactions sent as JSON-RPC batches of 100 (one HTTP request each),
   and 20 blocks in a row, timed until the last one is everyone's tip.

    .venv/bin/python benchmarks/node_throughput.py [--n 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox_chain.block import Block  # noqa: E402
from sandbox_chain.chainstate import Chain  # noqa: E402
from sandbox_chain.keys import PrivateKey  # noqa: E402
from sandbox_chain.node.devnet import Devnet  # noqa: E402
from sandbox_chain.params import REGTEST  # noqa: E402
from sandbox_chain.script import p2pkh_script  # noqa: E402
from sandbox_chain.sighash import sign_p2pkh_input  # noqa: E402
from sandbox_chain.transaction import OutPoint, Transaction, TxIn, TxOut  # noqa: E402

KEY = PrivateKey.from_int(0x5EED)
SCRIPT = p2pkh_script(KEY.public_key().hash160())
ADDRESS = KEY.public_key().address(REGTEST)
FANOUT = 250  # outputs per fan-out transaction (about 8.5 kB: standard)
FEE = 2_000  # satoshis per spend (~190 bytes: above the 1 sat/B relay minimum)


def wait(predicate, timeout: float = 120.0, interval: float = 0.01) -> float:
    """Poll until true; return the time it took (bounded)."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timed out after {timeout} s")
        time.sleep(interval)
    return time.perf_counter() - start


def signed(tx: Transaction, scripts: list[bytes]) -> Transaction:
    for i, script in enumerate(scripts):
        sign_p2pkh_input(tx, i, KEY, script)
    return tx


def prepare(rpc, n: int) -> list[Transaction]:
    """Fan coinbases out into n coins, confirm them, and sign n independent spends."""
    rpc.call("generatetoaddress", 100 + n // FANOUT + 1, ADDRESS)
    spends: list[Transaction] = []
    fanouts = []
    for height in range(1, n // FANOUT + 2):
        cb = rpc.call("getblock", rpc.call("getblockhash", height), 2)["tx"][0]
        value = int(round(float(cb["vout"][0]["value"]) * 1e8))
        per = (value - 20_000) // FANOUT
        fan = Transaction(
            2,
            [TxIn(OutPoint(bytes.fromhex(cb["txid"])[::-1], 0), b"")],
            [TxOut(per, SCRIPT) for _ in range(FANOUT)],
            0,
        )
        fanouts.append(signed(fan, [SCRIPT]))
        for vout in range(FANOUT):
            if len(spends) < n:
                spend = Transaction(
                    2, [TxIn(OutPoint(fan.txid(), vout), b"")], [TxOut(per - FEE, SCRIPT)], 0
                )
                spends.append(signed(spend, [SCRIPT]))
    for fan in fanouts:
        rpc.call("sendrawtransaction", fan.serialize().hex())
    rpc.call("generatetoaddress", 1, ADDRESS)
    return spends


def baseline(rpc, spends: list[Transaction], workdir: Path) -> float:
    """Transactions per second accepted by the library in-process, on a copy of the chain."""
    chain = Chain.open(workdir / "baseline", REGTEST)
    try:
        for height in range(1, rpc.call("getblockcount") + 1):
            raw = rpc.call("getblock", rpc.call("getblockhash", height), 0)
            chain.submit_block(Block.parse(bytes.fromhex(raw)))
        best = 0.0
        for _ in range(3):  # best of three: the machine is shared
            chain.mempool.clear()
            chain.script_cache.clear()  # no head start from the previous round
            start = time.perf_counter()
            for tx in spends:
                chain.accept_to_mempool(tx)
            best = max(best, len(spends) / (time.perf_counter() - start))
        return best
    finally:
        chain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="transactions to send")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        net = Devnet(Path(tmp) / "devnet", 3)
        nodes = net.start()
        try:
            clients = [n.client() for n in nodes]
            wait(lambda: clients[0].call("getconnectioncount") == 2)
            print(f"preparing {2 * args.n} signed transactions…", flush=True)
            prepared = prepare(clients[0], 2 * args.n)
            spends, batched = prepared[: args.n], prepared[args.n :]
            tip = clients[0].call("getbestblockhash")
            wait(lambda: all(c.call("getbestblockhash") == tip for c in clients))
            base_rate = baseline(clients[0], spends, Path(tmp))

            halves = [spends[0::2], spends[1::2]]
            errors: list[str] = []

            def send(txs: list[Transaction]) -> None:
                client = nodes[0].client()
                for tx in txs:
                    try:
                        client.call("sendrawtransaction", tx.serialize().hex())
                    except Exception as exc:  # noqa: BLE001 - reported below
                        errors.append(str(exc))
                client.close()

            start = time.perf_counter()
            threads = [threading.Thread(target=send, args=(h,)) for h in halves]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            accepted = time.perf_counter() - start
            if errors:
                raise SystemExit(f"{len(errors)} sends failed, first: {errors[0]}")
            wait(lambda: all(c.call("getmempoolinfo")["size"] == args.n for c in clients))
            relayed = time.perf_counter() - start

            start = time.perf_counter()
            [big] = clients[0].call("generatetoaddress", 1, ADDRESS)
            mined = time.perf_counter() - start
            wait(lambda: all(c.call("getbestblockhash") == big for c in clients[1:]))
            big_relay = time.perf_counter() - start - mined

            # The same again, as JSON-RPC batches of 100 calls (what Core clients do in bulk).
            start = time.perf_counter()
            for i in range(0, args.n, 100):
                calls = [
                    ("sendrawtransaction", tx.serialize().hex()) for tx in batched[i : i + 100]
                ]
                failed = [r for r in clients[0].batch(calls) if isinstance(r, Exception)]
                if failed:
                    raise SystemExit(f"{len(failed)} batched sends failed, first: {failed[0]}")
            batch_accepted = time.perf_counter() - start
            wait(lambda: all(c.call("getmempoolinfo")["size"] == args.n for c in clients))
            clients[0].call("generatetoaddress", 1, ADDRESS)

            start = time.perf_counter()
            hashes = clients[0].call("generatetoaddress", 20, ADDRESS)
            wait(lambda: all(c.call("getbestblockhash") == hashes[-1] for c in clients))
            blocks_rate = 20 / (time.perf_counter() - start)
            for c in clients:
                c.close()
        finally:
            net.stop()

    node_rate = args.n / accepted
    relay_rate = args.n / relayed
    print(f"baseline: library accept_to_mempool, in-process   {base_rate:8.0f} tx/s")
    print(
        f"node 0:   sendrawtransaction over HTTP (2 clients)  {node_rate:8.0f} tx/s"
        f"   ratio {node_rate / base_rate:.2f}"
    )
    print(
        f"3 nodes:  all mempools hold all {args.n} txs          {relay_rate:8.0f} tx/s"
        f"   ratio {relay_rate / base_rate:.2f}"
    )
    batch_rate = args.n / batch_accepted
    print(
        f"node 0:   sendrawtransaction, batches of 100        {batch_rate:8.0f} tx/s"
        f"   ratio {batch_rate / base_rate:.2f}"
    )
    print(
        f"block of {args.n + 1} txs: mined in {mined:.2f} s, on both peers {big_relay:.2f} s later"
    )
    print(f"20 blocks mined and relayed to 2 peers:          {blocks_rate:8.1f} blocks/s")


if __name__ == "__main__":
    main()
