"""Helpers for the credential tests: an issuer, a funded in-process chain, anchored batches.

A plain module (not conftest.py) so tests can import it. The chain is mined once per session
(coins for the issuer's address and for an outsider's) and copied by each test that changes it.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandbox_chain import miner
from sandbox_chain.chainstate import Chain
from sandbox_chain.keys import PrivateKey
from sandbox_chain.params import REGTEST
from sandbox_chain.script import p2pkh_script
from web.credentials.chainsource import LocalSource
from web.credentials.credential import CourseAchievement, LearnerResult, build_credential
from web.credentials.issuance import SignedCredential, anchor_batch, sign_credential
from web.credentials.issuer import IssuerProfile
from web.credentials.keystore import public_bytes
from web.credentials.multibase import ed25519_multikey
from web.credentials.resolver import Resolver
from web.credentials.statuslist import PURPOSES, StatusRegistry
from web.credentials.timefmt import format_time, now
from web.credentials.verify import Report, Verifier

ISSUER_ID = "https://academy.example/issuer"
ADDRESS_KEY = PrivateKey.from_int(0xC0FFEE)
OUTSIDER_KEY = PrivateKey.from_int(0xBAD)
ADDRESS_SPK = p2pkh_script(ADDRESS_KEY.public_key().hash160())
OUTSIDER_SPK = p2pkh_script(OUTSIDER_KEY.public_key().hash160())
START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)  # the issuer's keys and address start here
ISSUED = START + timedelta(days=30)  # when the test certificates are signed
ACHIEVEMENT = CourseAchievement(
    id="https://academy.example/achievements/lune-101",
    course_id="lune-101",
    name="Lune 101: How Bitcoin works — certificate",
    description="Completed every module of Lune 101 and passed its certification exam.",
    modules=[("00-onboarding", "Onboarding"), ("01-hashing", "Hash functions")],
    exam="Lune 101 certification exam",
    pass_mark=70,
)


def build_template(path: Path) -> None:
    """A regtest chain with mature coins for the issuer's address and for an outsider."""
    chain = Chain.open(path, REGTEST)
    for _ in range(5):
        miner.mine_block(chain, OUTSIDER_SPK)
    for _ in range(101):
        miner.mine_block(chain, ADDRESS_SPK)
    chain.close()


def copy_chain(template: Path, dest: Path) -> Chain:
    """Open a private copy of the template chain."""
    shutil.copytree(template, dest)
    (dest / "LOCK").unlink(missing_ok=True)
    return Chain.open(dest, REGTEST)


@dataclass
class Issuer:
    """An issuer in memory: profile, signing key, status registry."""

    profile: IssuerProfile
    key_id: str
    key: Ed25519PrivateKey
    registry: StatusRegistry
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)

    @classmethod
    def create(cls) -> Issuer:
        """An issuer with key-1 and the issuing address, both valid from START."""
        profile = IssuerProfile.new(ISSUER_ID, "Lune Academy", "https://academy.example")
        key = Ed25519PrivateKey.generate()
        key_id = f"{ISSUER_ID}#key-1"
        profile.add_key(key_id, ed25519_multikey(public_bytes(key)), START)
        profile.add_address(ADDRESS_KEY.public_key().address(REGTEST), "regtest", START)
        registry = StatusRegistry("https://academy.example/status", format_time(START))
        return cls(profile, key_id, key, registry, {key_id: key})

    def add_key(self, name: str, valid_from: datetime) -> str:
        """Publish a new key; returns its id."""
        key = Ed25519PrivateKey.generate()
        key_id = f"{ISSUER_ID}#{name}"
        self.profile.add_key(key_id, ed25519_multikey(public_bytes(key)), valid_from)
        self.keys[key_id] = key
        return key_id

    def credential(self, email: str, score: float = 85, **kw: Any) -> dict[str, Any]:
        """An unsigned certificate for a learner."""
        achievement = kw.pop("achievement", ACHIEVEMENT)
        return build_credential(
            issuer=self.profile.embedded(),
            achievement=achievement,
            learner=LearnerResult(email, score),
            valid_from=kw.pop("valid_from", ISSUED),
            status=self.registry.entries(self.registry.allocate()),
        )

    def sign(
        self, credential: dict[str, Any], key_id: str | None = None, at: datetime = ISSUED
    ) -> SignedCredential:
        """Sign with one of the issuer's keys (default: key-1)."""
        key_id = key_id or self.key_id
        return sign_credential(credential, key_id, self.keys[key_id], at)

    def anchor(
        self, chain: Chain, signed: list[SignedCredential], key: PrivateKey = ADDRESS_KEY
    ) -> tuple[list[dict[str, Any]], str]:
        """Anchor a batch, paid by `key` (default: the issuing address); (credentials, txid)."""
        docs, built, _ = anchor_batch(
            signed, LocalSource(chain), key, f"{ISSUER_ID}#address", ISSUED + timedelta(hours=1)
        )
        return docs, built.txid

    def resolver(self) -> Resolver:
        """A resolver pinning every version of both status lists, the latest at the stable URL."""
        resolver = Resolver()
        key_id = self.profile.signing_key_at(now()).id  # the lists are signed now
        key = self.keys[key_id]
        for purpose in PURPOSES:
            for version in range(self.registry.version + 1):
                doc = self.registry.list_credential(purpose, ISSUER_ID, key_id, key, version)
                resolver.pin(doc, f"{doc['id']}/v{version}")
            resolver.pin(self.registry.list_credential(purpose, ISSUER_ID, key_id, key))
        return resolver

    def verify(
        self, credential: Any, chain: Chain | None, at: datetime | None = None, **kw: Any
    ) -> Report:
        """Verify with this issuer's profile, its status lists and the chain."""
        verifier = Verifier(
            profile=IssuerProfile(copy.deepcopy(self.profile.document)),
            chain=LocalSource(chain) if chain is not None else None,
            resolver=self.resolver(),
            at=at or ISSUED + timedelta(days=1),
        )
        return verifier.verify(credential, **kw)


def mine(chain: Chain, n: int = 1) -> None:
    """Mine `n` blocks (with the mempool) to the outsider."""
    for _ in range(n):
        miner.mine_block(chain, OUTSIDER_SPK)


def failed_at(report: Report) -> tuple[str, str]:
    """(name, message) of the first failing step."""
    step = report.first_failure()
    assert step is not None, "\n".join(s.line() for s in report.steps)
    return step.name, step.message
