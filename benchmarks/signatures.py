"""Signature verification: `keys.verify_signature` on each backend against plain library calls.

Baselines, measured in the same run:
  (a) the plain `ecdsa` call a learner would write: VerifyingKey.from_string(pub) then
      verify_digest(sig, digest, sigdecode=sigdecode_der) — parsing the key every time;
  (b) the plain `coincurve` call: PublicKey(pub).verify(sig, digest, hasher=None).
Measured:
  (c) verify_signature, backend "ecdsa", every signature under a different key (no cache help);
  (d) verify_signature, backend "ecdsa", one key signing many inputs (cached, precomputed key);
  (e) verify_signature, backend "coincurve" (lax DER parse + libsecp256k1), different keys.
Ratios printed: (c)/(a), (d)/(a), (e)/(b) — our overhead or gain over the plain call — and
(e)/(c), the speed-up the node gets from libsecp256k1. The best of R rounds is kept.

Run: .venv/bin/python benchmarks/signatures.py [--n N] [--rounds R]
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable

import coincurve
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_der

from sandbox_chain import keys
from sandbox_chain.keys import PrivateKey, verify_signature


def rate(fn: Callable[[], int], rounds: int) -> float:
    """Best verifications per second over `rounds` runs of `fn` (which returns its count)."""
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        count = fn()
        best = max(best, count / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="signatures per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.n

    digests = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    signers = [PrivateKey.from_int(1000 + i) for i in range(n)]
    many = [(k.public_key().sec(), k.sign(d), d) for k, d in zip(signers, digests, strict=True)]
    one_key = PrivateKey.from_int(424242)
    one_pub = one_key.public_key().sec()
    same = [(one_pub, one_key.sign(d), d) for d in digests]

    def plain_ecdsa() -> int:
        for pub, sig, d in many:
            vk = VerifyingKey.from_string(pub, curve=SECP256k1, hashfunc=hashlib.sha256)
            assert vk.verify_digest(sig, d, sigdecode=sigdecode_der)
        return n

    def plain_coincurve() -> int:
        for pub, sig, d in many:
            assert coincurve.PublicKey(pub).verify(sig, d, hasher=None)
        return n

    def ours(triples: list[tuple[bytes, bytes, bytes]], backend: str) -> Callable[[], int]:
        def run() -> int:
            # "New keys" must not profit from the key caches.
            keys.clear_key_caches()
            for pub, sig, d in triples:
                assert verify_signature(pub, sig, d, backend=backend)
            return len(triples)

        return run

    def ours_same_key() -> int:
        for pub, sig, d in same:  # the cache is kept: this is the repeated-key case
            assert verify_signature(pub, sig, d, backend="ecdsa")
        return n

    a = rate(plain_ecdsa, args.rounds)
    b = rate(plain_coincurve, args.rounds)
    c = rate(ours(many, "ecdsa"), args.rounds)
    d = rate(ours_same_key, args.rounds)
    e = rate(ours(many, "coincurve"), args.rounds)
    print(f"(a) plain ecdsa, key parsed each time  {a:10.0f} verifications/s  (baseline)")
    print(f"(b) plain coincurve                    {b:10.0f} verifications/s  (baseline)")
    print(
        f"(c) verify_signature ecdsa, new keys   {c:10.0f} verifications/s  (c)/(a) = {c / a:.2f}"
    )
    print(
        f"(d) verify_signature ecdsa, same key   {d:10.0f} verifications/s  (d)/(a) = {d / a:.2f}"
    )
    print(
        f"(e) verify_signature coincurve         {e:10.0f} verifications/s  (e)/(b) = {e / b:.2f}"
    )
    print(f"libsecp256k1 speed-up for the node: (e)/(c) = {e / c:.1f}x")


if __name__ == "__main__":
    main()
