"""Certificates: signing + anchoring and verifying, against raw Ed25519 on the same bytes.

Baselines, measured in the same run:
  (a) raw Ed25519 signing (`cryptography`) of each certificate's 64-byte signing input
      (proof hash ‖ document hash) — the floor of any eddsa-rdfc-2022 issuer;
  (b) raw Ed25519 verification of those signatures.
Measured:
  (c) certificates built, canonicalized (RDFC-1.0), signed, then anchored as one batch (Merkle
      tree, OP_RETURN transaction accepted by an in-process sandbox chain, merkle-proof-2019
      proofs attached) — per second;
  (d) full verifications (JSON-LD, both proofs, chain lookups, signed status lists, validity)
      of certificates taken one at a time from that batch — per second.
Ratios printed: (c)/(a) and (d)/(b): what canonicalization, the anchor and the other checks cost
over the bare signature. The best of R rounds is kept.

Run: .venv/bin/python benchmarks/credentials.py [--n N] [--verify V] [--rounds R]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandbox_chain import miner
from sandbox_chain.chainstate import Chain
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script
from web.credentials import eddsa
from web.credentials.chainsource import LocalSource
from web.credentials.credential import CourseAchievement, LearnerResult, build_credential
from web.credentials.issuance import anchor_batch, sign_credential
from web.credentials.issuer import IssuerProfile
from web.credentials.keystore import public_bytes
from web.credentials.multibase import ed25519_multikey
from web.credentials.resolver import Resolver
from web.credentials.statuslist import PURPOSES, StatusRegistry
from web.credentials.timefmt import format_time
from web.credentials.verify import Verifier

ISSUER = "https://academy.example/issuer"
START = datetime(2026, 1, 1, tzinfo=UTC)
ACHIEVEMENT = CourseAchievement(
    "https://academy.example/achievements/lune-101", "lune-101", "Lune 101 certificate",
    "Completed Lune 101.", [("00-onboarding", "Onboarding"), ("01-hashing", "Hashing")],
    "Lune 101 exam", 70,
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="certificates per batch")
    parser.add_argument("--verify", type=int, default=100, help="verifications per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    key_id = f"{ISSUER}#key-1"
    address_key = PrivateKey.from_int(0xBE4C)
    spk = p2pkh_script(address_key.public_key().hash160())
    profile = IssuerProfile.new(ISSUER, "Lune Academy", "https://academy.example")
    profile.add_key(key_id, ed25519_multikey(public_bytes(key)), START)
    profile.add_address(address_key.public_key().address(REGTEST), "regtest", START)

    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain.open(Path(tmp) / "chain", REGTEST)
        for _ in range(100 + args.rounds):
            miner.mine_block(chain, spk)
        registry = StatusRegistry("https://academy.example/status", format_time(START))
        issued = START + timedelta(days=10)

        best_raw_sign = best_issue = best_raw_verify = best_verify = 0.0
        for _ in range(args.rounds):
            docs = [
                build_credential(
                    issuer=profile.embedded(),
                    achievement=ACHIEVEMENT,
                    learner=LearnerResult(f"l{i}@example.org", 80 + i % 20),
                    valid_from=issued,
                    status=registry.entries(registry.allocate()),
                )  # fmt: skip
                for i in range(args.n)
            ]
            inputs = [
                eddsa.signing_input(d, eddsa.proof_options(key_id, format_time(issued))).data
                for d in docs
            ]
            start = time.perf_counter()
            sigs = [key.sign(data) for data in inputs]
            best_raw_sign = max(best_raw_sign, args.n / (time.perf_counter() - start))
            start = time.perf_counter()
            signed = [sign_credential(d, key_id, key, issued) for d in docs]
            anchored, _, _ = anchor_batch(
                signed, LocalSource(chain), address_key, f"{ISSUER}#a", issued
            )
            best_issue = max(best_issue, args.n / (time.perf_counter() - start))
            miner.mine_block(chain, spk)

            pub = key.public_key()
            start = time.perf_counter()
            for sig, data in zip(sigs, inputs, strict=True):
                pub.verify(sig, data)
            best_raw_verify = max(best_raw_verify, args.n / (time.perf_counter() - start))

            resolver = Resolver()
            for purpose in PURPOSES:
                resolver.pin(registry.list_credential(purpose, ISSUER, key_id, key))
            verifier = Verifier(
                profile=profile, chain=LocalSource(chain), resolver=resolver, at=issued
            )
            sample = anchored[: args.verify]
            start = time.perf_counter()
            for doc in sample:
                report = verifier.verify(doc)
                if not report.ok:
                    sys.exit(f"benchmark certificate did not verify: {report.first_failure()}")
            best_verify = max(best_verify, len(sample) / (time.perf_counter() - start))
        chain.close()

    issue_ratio = best_issue / best_raw_sign
    verify_ratio = best_verify / best_raw_verify
    print(f"raw Ed25519 sign              {best_raw_sign:10.0f} /s  (baseline a)")
    print(f"sign + anchor, batch of {args.n:<5d} {best_issue:10.1f} /s  = {issue_ratio:.4f} x a")
    print(f"raw Ed25519 verify            {best_raw_verify:10.0f} /s  (baseline b)")
    print(f"full verification             {best_verify:10.1f} /s  = {verify_ratio:.4f} x b")


if __name__ == "__main__":
    main()
