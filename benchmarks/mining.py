"""Mining speed: our nonce search against a plain hashlib loop measured in the same run.

Prints hashes per second for
  (a) the baseline: the simplest midstate double-SHA-256 nonce loop, written out below,
  (b) `pow.solve_header` on one core,
  (c) `pow.solve_header_parallel` on 2 worker processes (process start-up included),
each over the same number of hashes, against a target no hash can meet (so every run does
exactly that many hashes). The runs are interleaved and the best of each kept, because the
machine is shared. Ratios: (b)/(a) should be >= 0.9; (c)/(b) is the gain from a second core.

Run: .venv/bin/python benchmarks/mining.py [--hashes N] [--rounds R]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from dataclasses import replace

from sandbox_chain.params import REGTEST
from sandbox_chain.pow import solve_header, solve_header_parallel

UNREACHABLE_BITS = 0x03000001  # target 1: valid on regtest, met by no hash in practice


def baseline(prefix76: bytes, n: int) -> float:
    """(a) A plain midstate loop: copy the state after 76 bytes, add the nonce, hash twice."""
    midstate = hashlib.sha256(prefix76)
    start = time.perf_counter()
    for nonce in range(n):
        h = midstate.copy()
        h.update(nonce.to_bytes(4, "little"))
        digest = hashlib.sha256(h.digest()).digest()
        if digest[31] == 0 and digest[::-1] <= b"\0" * 31 + b"\1":
            print("found", nonce)
    return n / (time.perf_counter() - start)


def ours_one_core(header, n: int) -> float:
    start = time.perf_counter()
    assert solve_header(header, REGTEST, max_tries=n) is None
    return n / (time.perf_counter() - start)


def ours_parallel(header, n: int, processes: int) -> float:
    start = time.perf_counter()
    assert solve_header_parallel(header, REGTEST, processes=processes, max_tries=n) is None
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=2_000_000, help="hashes per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()

    header = replace(REGTEST.genesis_block.header, bits=UNREACHABLE_BITS, nonce=0)
    prefix76 = header.serialize()[:76]
    n = args.hashes
    best = {"a": 0.0, "b": 0.0, "c": 0.0}
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        best["a"] = max(best["a"], baseline(prefix76, n))
        best["b"] = max(best["b"], ours_one_core(header, n))
        best["c"] = max(best["c"], ours_parallel(header, n, 2))
    spawn_start = time.perf_counter()
    solve_header_parallel(header, REGTEST, processes=2, max_tries=2)
    spawn_cost = time.perf_counter() - spawn_start

    print(f"cpus: {os.cpu_count()}  hashes per run: {n:,}  rounds: {args.rounds} (best kept)")
    print(f"(a) baseline hashlib midstate loop : {best['a'] / 1e6:6.3f} MH/s")
    print(f"(b) solve_header, 1 process        : {best['b'] / 1e6:6.3f} MH/s")
    print(f"(c) solve_header_parallel, 2 procs : {best['c'] / 1e6:6.3f} MH/s")
    print(f"    (c) includes starting 2 workers: {spawn_cost:.2f} s per search")
    print(f"ratio (b)/(a) ours vs baseline     : {best['b'] / best['a']:.3f}  (target >= 0.9)")
    print(f"ratio (c)/(b) 2 procs vs 1 process : {best['c'] / best['b']:.3f}")
    print(f"total time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
